# escape: return a live exception object (its traceback holds frames)
# layer: normalize
# expect: invalid_return a value of type ZeroDivisionError cannot be stored
def tool(conv):
    try:
        1 / 0
    except ZeroDivisionError as e:
        return e
