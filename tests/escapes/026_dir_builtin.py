# escape: dir() to list underscore names of runtime objects and find a way in
# layer: compile
# expect: compile_error 'dir' is not available to tools
import json


def tool(conv):
    return ",".join(dir(json) + dir(conv))
