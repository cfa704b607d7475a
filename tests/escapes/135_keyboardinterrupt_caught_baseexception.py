# escape: name BaseException to catch the runtime's own interrupts (and GeneratorExit) and keep running
# layer: compile
# expect: compile_error 'BaseException' is not available to tools
def tool(conv):
    while True:
        try:
            while True:
                pass
        except BaseException:
            continue
