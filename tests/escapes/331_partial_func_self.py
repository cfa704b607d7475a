# escape: functools.partial keeps the callable it wraps (.func is public): read the bound method's __self__ through it, spelled at run time
# layer: guard
# expect: runtime_error attribute '__self__' is not available to tools
import functools


def tool(conv):
    wrapped = functools.partial(conv.utils.get_secret)
    return str(getattr(wrapped.func, "__se" + "lf__"))
