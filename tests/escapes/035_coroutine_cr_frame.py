# escape: a coroutine's cr_frame: the frame of an async function, with its globals, without ever awaiting it
# layer: compile
# expect: compile_error 'async def' is not allowed
async def hop():
    return 1


def tool(conv):
    coro = hop()
    return str(coro.cr_frame.f_globals)
