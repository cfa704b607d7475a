# escape: operator.attrgetter/methodcaller re-open the Formatter escape: C-level getattr with a dunder name
# layer: guard
# expect: runtime_error attribute '__globals__' is not available to tools
# moved: operator could not be imported; tools now get operator.attrgetter resolving every dotted step through the attribute guard
import operator


def tool(conv):
    walk = operator.attrgetter("__class__.__init__.__globals__")
    return str(walk(conv))
