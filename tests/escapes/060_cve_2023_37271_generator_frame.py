# escape: CVE-2023-37271, RestrictedPython's published exploit: a generator's gi_frame.f_back.f_back reaches the caller's f_builtins and __import__
# layer: compile
# expect: compile_error attribute 'gi_frame' is not available to tools
g = None
leak = None


def test():
    global g, leak
    leak = g.gi_frame.f_back.f_back
    yield leak


def tool(conv):
    global g
    g = test()
    g.send(None)
    os = leak.f_builtins.get("__import__")("os")
    return str(os.listdir("/"))
