# escape: walk tb_next from an exception raised inside runtime code (conv) into trusted frames
# layer: compile
# expect: compile_error attribute 'tb_next' is not allowed
def tool(conv):
    try:
        conv.set_variant(42)
    except TypeError as e:
        tb = e.with_traceback(None)
        return str(tb.tb_next)
    return "no exception"
