# escape: hide the import of os inside the function body, evaluated only at call time
# layer: compile
# expect: compile_error import of 'os' is not allowed
def tool(conv):
    if conv.state.never is None:
        import os

        return os.getcwd()
    return "contained"
