# escape: dir() to list underscore names of runtime objects and find a way in
# layer: compile
# expect: compile_error 'dir' is not allowed
import json


def tool(conv):
    return ",".join(dir(json) + dir(conv))
