# escape: walk tb_next from an exception raised inside runtime code (conv) to the runtime's innermost frame and its globals
# layer: compile
# expect: compile_error attribute 'tb_next' is not available to tools
def tool(conv):
    try:
        conv.set_variant(42)
    except TypeError as e:
        tb = e.__traceback__
        while tb.tb_next is not None:
            tb = tb.tb_next
        return str(tb.tb_frame.f_globals)
    return "no exception"
