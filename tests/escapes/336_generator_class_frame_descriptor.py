# escape: type(generator) is the generator class; take its gi_frame descriptor from the class (spelled at run time) to call on a running generator
# layer: guard
# expect: runtime_error attribute 'gi_frame' is not available to tools
def gen():
    yield 1


def tool(conv):
    descriptor = getattr(type(gen()), "gi_" + "frame")
    return str(descriptor)
