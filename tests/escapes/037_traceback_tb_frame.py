# escape: except Exception as e: e.__traceback__.tb_frame.f_back reaches the runtime's frames
# layer: compile
# expect: compile_error attribute '__traceback__' is not available to tools
def tool(conv):
    try:
        1 / 0
    except Exception as e:
        frame = e.__traceback__.tb_frame
        return str(frame.f_back.f_globals)
    return "no exception"
