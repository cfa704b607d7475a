# escape: str.format_map with a mapping: field syntax reads attributes of the values
# layer: compile
# expect: compile_error attribute 'format_map' is not allowed
def tool(conv):
    return "{c.utils._secrets}".format_map({"c": conv})
