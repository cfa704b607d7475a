# escape: descriptor objects hold the functions they wrap: property.fget, classmethod.__func__, staticmethod.__wrapped__ (names spelled at run time, past the compiler)
# layer: guard
# expect: contained
def tool(conv):
    refused = []
    prop = type(conv).utils
    for target, name in ((prop, "fg" + "et"), (classmethod(len), "__fu" + "nc__"), (staticmethod(len), "__wrap" + "ped__")):
        try:
            getattr(target, name)
        except AttributeError as error:
            refused.append(str(error))
    if (len(refused) == 3 and "property.fget is not available" in refused[0]
            and "a method's function" in refused[1] and "tool's own" in refused[2]):
        return "contained"
    return f"escaped: {refused}"
