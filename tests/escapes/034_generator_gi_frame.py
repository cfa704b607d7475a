# escape: a generator's gi_frame.f_back.f_globals: the runtime's globals (real modules) above the tool
# layer: compile
# expect: compile_error attribute 'gi_frame' is not allowed
def walk():
    yield 1


def tool(conv):
    gen = walk()
    frame = gen.gi_frame
    return str(frame.f_back.f_globals)
