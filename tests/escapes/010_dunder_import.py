# escape: call __import__('os') directly instead of an import statement
# layer: compile
# expect: compile_error name '__import__' is not available to tools
def tool(conv):
    return __import__("os").popen("id").read()
