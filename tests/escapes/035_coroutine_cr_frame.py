# escape: a coroutine's cr_frame, and driving it with send() to leak its frame
# layer: compile
# expect: compile_error 'async def' is not allowed
async def hop():
    return 1


def tool(conv):
    coro = hop()
    return str(coro.cr_frame.f_globals)
