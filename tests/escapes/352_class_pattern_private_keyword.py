# escape: a match class pattern's keyword names an attribute the interpreter reads natively: case Utils(_secrets=s)
# layer: compile
# expect: compile_error a match pattern may not name attribute '_secrets'
def tool(conv):
    match conv.utils:
        case object(_secrets=secrets):
            return str(secrets)
    return "contained"
