# escape: functools.update_wrapper(tool_object, runtime_object) copies the runtime object's whole __dict__ (private names included) into the tool's object
# layer: views
# expect: contained
# LIVE today: the stand-in checks only the wrapper; WRAPPER_UPDATES=('__dict__',) then copies
# wrapped.__dict__ into it, so phonenumbers' shared PhoneMetadata (behind a private name) is
# the tool's to read.
import functools

import phonenumbers


class Spy:
    pass


def tool(conv):
    spy = Spy()
    try:
        functools.update_wrapper(spy, phonenumbers.AsYouTypeFormatter("GB"))
    except Exception as exc:
        return "contained" if "tool" in str(exc) else "failed for another reason: %s" % exc
    copied = vars(spy)
    private = sorted(name for name in copied if name.startswith("_") and not name.startswith("__"))
    if private:
        return "escaped: copied private state %s, e.g. %r" % (private[:4], copied.get("_current_metadata"))
    return "contained"
