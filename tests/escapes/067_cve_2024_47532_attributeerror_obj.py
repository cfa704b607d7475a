# escape: CVE-2024-47532: a failed lookup on a wrapped module raises AttributeError whose .obj is the real module
# layer: guard
# expect: runtime_error AttributeError.obj is not available to tools
# moved: every '.obj' was refused at compile time; the guard refuses it on AttributeError instances, and its own errors carry no object
import string


def tool(conv):
    try:
        string.foo
    except AttributeError as e:
        real = e.obj
        return str(real.Formatter().get_field("0.__class__", [conv], {}))
    return "no exception"
