# escape: heapq's and bisect's private max-heap helpers and C-module internals through the views, and a key= that walks attributes natively
# layer: views
# expect: contained
import bisect
import heapq


class Slot:
    def __init__(self, at):
        self.at = at

    def __lt__(self, other):
        return self.at < other.at


def tool(conv):
    for module, name in ((heapq, "_heapify_max"), (heapq, "_heappop_max"), (heapq, "_siftdown"),
                         (heapq, "__about__"), (bisect, "_bisect")):
        try:
            getattr(module, name)
        except AttributeError as exc:
            if "available to tools" not in str(exc):
                return "%s refused for another reason: %s" % (name, exc)
            continue
        return "escaped: %s.%s is reachable" % (module.__name__, name)
    waitlist = []
    for at in (3, 1, 2):
        heapq.heappush(waitlist, Slot(at))
    order = [heapq.heappop(waitlist).at for _ in range(3)]
    position = bisect.bisect([1, 3, 5], 4)
    return "contained" if order == [1, 2, 3] and position == 2 else "heapq/bisect broke"
