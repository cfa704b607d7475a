# escape: CVE-2023-41039 via str.format_map
# layer: guard
# expect: runtime_error attribute '__mro__' is not available to tools
# moved: every '.format_map' was refused at compile time; it is now the guarded formatter
def tool(conv):
    return "{x.__class__.__mro__}".format_map({"x": conv})
