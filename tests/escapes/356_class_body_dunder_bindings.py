# escape: bind a refused hook in a class body by a spelling other than def: an import alias, a for target, an except name, a with target
# layer: compile
# expect: compile_error defining '__del__' is not allowed
import json


class Ghost:
    from json import dumps as __del__
    for __set_name__ in (print,):
        pass


def tool(conv):
    return "escaped"
