# escape: compile() a code object outside the transformer (to exec it some other way)
# layer: compile
# expect: compile_error 'compile' is not available to tools
def tool(conv):
    code = compile("import os", "<x>", "exec")
    return str(code)
