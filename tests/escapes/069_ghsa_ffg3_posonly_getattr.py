# escape: GHSA-ffg3-p8fm-mjx2: a positional-only parameter named _getattr_ shadows the guard inside the function
# layer: compile
# expect: compile_error name '_getattr_' is not allowed
def unguarded(_getattr_=lambda obj, name: obj, /):
    return conv_holder[0].utils._secrets


conv_holder = []


def tool(conv):
    conv_holder.append(conv)
    return str(unguarded())
