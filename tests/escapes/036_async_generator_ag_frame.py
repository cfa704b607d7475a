# escape: an async generator's ag_frame
# layer: compile
# expect: compile_error 'async def' is not allowed
async def agen():
    yield 1


def tool(conv):
    return str(agen().ag_frame)
