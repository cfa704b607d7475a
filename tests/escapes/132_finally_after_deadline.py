# escape: run an endless loop in 'finally', so that even an exception-based deadline cannot end the call
# layer: deadline
# expect: timeout
def tool(conv):
    try:
        while True:
            pass
    finally:
        while True:
            pass
