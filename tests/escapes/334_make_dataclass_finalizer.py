# escape: dataclasses.make_dataclass takes a namespace dict: put __del__ in it to build a class with a finalizer without a class statement
# layer: guard
# expect: runtime_error defining '__del__' is not allowed
import dataclasses


def tool(conv):
    Ghost = dataclasses.make_dataclass("Ghost", ["a"], namespace={"__del__": lambda self: None})
    return str(Ghost(1))
