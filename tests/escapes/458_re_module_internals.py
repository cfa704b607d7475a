# escape: re's module state and left-out members: the compiled-pattern cache, purge, template, the sre modules
# layer: views
# expect: contained
import re


def tool(conv):
    for name in ("_cache", "purge", "template", "DEBUG", "sre_compile", "sre_parse", "_compiler", "copyreg", "enum"):
        try:
            getattr(re, name)
        except AttributeError as exc:
            if "available to tools" not in str(exc) and "names starting with '_'" not in str(exc):
                return "re.%s refused for another reason: %s" % (name, exc)
            continue
        return "escaped: re.%s is reachable" % name
    pattern = re.compile(r"(\d+)")
    return "contained" if pattern.sub(r"<\1>", "a1") == "a<1>" else "re.sub broke"
