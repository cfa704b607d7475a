# escape: exec() a string: the string is never seen by the RestrictedPython transformer
# layer: compile
# expect: compile_error 'exec' is not available to tools
def tool(conv):
    scope = {}
    exec("import os\nresult = os.popen('id').read()", scope)
    return scope["result"]
