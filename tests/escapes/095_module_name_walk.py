# escape: read an exported class' __module__ and __dict__ to find the module namespace behind it
# layer: guard
# expect: runtime_error a class's __dict__ is not available to tools
# moved: '__module__' was refused at compile time; it is a label now (readable), while a class's __dict__ stays refused
import json


def tool(conv):
    return json.JSONDecoder.__module__ + str(json.JSONDecoder.__dict__)
