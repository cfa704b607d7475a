# escape: string.Formatter (field walks outside the guard, CVE-2023-41039), and the held modules of math/numbers/string through their views
# layer: views
# expect: contained
import math
import numbers
import string


def tool(conv):
    for module, name in ((string, "Formatter"), (string, "_re"), (string, "_ChainMap"), (numbers, "ABCMeta"),
                         (numbers, "abstractmethod"), (math, "__loader__")):
        try:
            getattr(module, name)
        except AttributeError as exc:
            if "available to tools" not in str(exc):
                return "%s refused for another reason: %s" % (name, exc)
            continue
        return "escaped: %s.%s is reachable" % (module.__name__, name)
    template = string.Template("${x.__class__}")
    try:
        template.substitute({"x.__class__": "walked"})
    except ValueError:
        pass
    else:
        return "escaped: a $-template resolved a dotted name"
    return "contained" if math.isqrt(17) == 4 and isinstance(3, numbers.Integral) else "math/numbers broke"
