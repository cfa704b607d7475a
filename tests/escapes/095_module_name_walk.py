# escape: read an exported class' __module__ and __dict__ to find the module namespace behind it
# layer: guard
# expect: runtime_error attribute '__dict__' is available only on the tool's own
# moved: '__module__' was refused at compile time; it is a label now (readable), while a runtime class's __dict__ stays refused
import json


def tool(conv):
    return json.JSONDecoder.__module__ + str(json.JSONDecoder.__dict__)
