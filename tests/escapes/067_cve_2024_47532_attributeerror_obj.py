# escape: CVE-2024-47532: a failed lookup on a wrapped module raises AttributeError whose .obj is the real module
# layer: compile
# expect: compile_error attribute 'obj' is not allowed
import string


def tool(conv):
    try:
        string.foo
    except AttributeError as e:
        real = e.obj
        return str(real.Formatter().get_field("0.__class__", [conv], {}))
    return "no exception"
