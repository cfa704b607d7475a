# escape: read an exported class' __module__ and __dict__ to find the module namespace behind it
# layer: compile
# expect: compile_error attribute '__module__' is not allowed
import json


def tool(conv):
    return json.JSONDecoder.__module__ + str(json.JSONDecoder.__dict__)
