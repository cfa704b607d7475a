# escape: globals() to fetch and replace the guards (_getattr_, _write_) the code was compiled against
# layer: compile
# expect: compile_error 'globals' is not available to tools
def tool(conv):
    guards = globals()
    guards["_write_"] = lambda ob: ob
    return "escaped"
