# escape: operator.attrgetter/methodcaller re-open the Formatter escape: C-level getattr with a dunder name
# layer: compile
# expect: compile_error import of 'operator' is not allowed
import operator


def tool(conv):
    walk = operator.attrgetter("__class__.__init__.__globals__")
    return str(walk(conv))
