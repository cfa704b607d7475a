# escape: a tool __deepcopy__ hook reached through dataclasses.asdict, whose deepcopy the tool never called, reads the memo's kept originals: the real __dict__ of calendar.day_name
# layer: views
# expect: contained
# The copy module's own memo, made inside the standard library, is the one the hook gets:
# refusing a tool's memo= is not enough, the originals must not be in any memo (see 407).
import calendar
import dataclasses

SEEN = []


class Spy:
    def __deepcopy__(self, memo):
        SEEN.append(memo)
        return Spy()


class Box:  # not a container asdict recurses into: one deepcopy copies all it holds
    def __init__(self, *items):
        self.items = list(items)


@dataclasses.dataclass
class Holder:
    box: Box


def tool(conv):
    dataclasses.asdict(Holder(Box(calendar.day_name, Spy())))
    if not SEEN:
        return "contained"
    for value in list(SEEN[0].values()):
        if type(value) is list:
            for item in value:
                if type(item) is dict and "format" in item:
                    item["format"] = "%B"
    if calendar.day_name[0] != "Monday":
        return "escaped: calendar.day_name[0] is now %r for every later call" % calendar.day_name[0]
    return "contained"
