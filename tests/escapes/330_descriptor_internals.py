# escape: descriptor objects hold the functions they wrap: property.fget, classmethod.__func__, staticmethod.__wrapped__ (names spelled at run time, past the compiler)
# layer: guard
# expect: contained
# moved: staticmethod(f).__wrapped__ is decided by where it leads (f48845f): it gives back the object the
# tool wrapped, which the tool already holds, so it is allowed; it still never reaches a runtime function
# the tool did not hand in.
def tool(conv):
    refused = []
    prop = type(conv).utils
    for target, name in ((prop, "fg" + "et"), (classmethod(len), "__fu" + "nc__"), (staticmethod(len), "__wrap" + "ped__")):
        try:
            getattr(target, name)
        except AttributeError as error:
            refused.append(str(error))
    if (len(refused) == 2 and "property.fget is not available" in refused[0]
            and "a method's function" in refused[1] and getattr(staticmethod(len), "__wrap" + "ped__") is len):
        return "contained"
    return f"escaped: {refused}"
