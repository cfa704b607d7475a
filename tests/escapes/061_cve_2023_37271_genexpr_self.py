# escape: CVE-2023-37271, second published form: a generator expression that reads its own gi_frame through its name
# layer: compile
# expect: compile_error attribute 'gi_frame' is not available to tools
def tool(conv):
    q = (q.gi_frame.f_back.f_back.f_back for _ in (1,))
    frame = [x for x in q][0]
    return str(frame.f_builtins["__import__"]("os").listdir("/"))
