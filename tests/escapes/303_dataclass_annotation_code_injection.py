# escape: a tool class's __annotations__ dict is writable, and dataclass() pastes each annotation key into source code it exec()s: a key that is an expression runs unrestricted code (native attribute access, object.__subclasses__(), a real module's functions)
# layer: guard
# expect: contained
# LIVE today: the generated __repr__ evaluates the injected expression and returns os.getpid(). Fix: the dataclass wrapper refuses annotation keys that are not identifiers (as make_dataclass does), and a class's __annotations__ is not handed out as the live dict
import dataclasses

PAYLOAD = ("[c for c in ().__class__.__base__.__subclasses__() if c.__name__ == '_wrap_close']"
           "[0].__init__.__globals__['getpid']()")


class Booking:
    pass


def tool(conv):
    try:
        Booking.__annotations__["x if 0 else [" + PAYLOAD + "]"] = int
        dataclasses.dataclass(init=False, eq=False)(Booking)
        text = repr(Booking())
    except (TypeError, AttributeError, ValueError) as error:
        if "annotation" in str(error) or "identifier" in str(error) or "field" in str(error) or "read-only" in str(error):
            return "contained"
        return f"refused for another reason: {error}"
    return f"escaped: injected code ran in dataclass's generated __repr__: {text[-30:]}"
