# escape: str.format_map with a mapping: field syntax reads attributes of the values
# layer: guard
# expect: runtime_error readable only on the tool's own classes and objects
# moved: was refused at compile time (every '.format_map' was); format_map is now the guarded formatter, and conv.utils' private secrets table stays opaque
def tool(conv):
    return "{c.utils._secrets}".format_map({"c": conv})
