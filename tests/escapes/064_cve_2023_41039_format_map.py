# escape: CVE-2023-41039 via str.format_map
# layer: compile
# expect: compile_error attribute 'format_map' is not allowed
def tool(conv):
    return "{x.__class__.__mro__}".format_map({"x": conv})
