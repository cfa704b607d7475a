# escape: CVE-2023-41039: str.format field syntax reads attributes of its arguments outside the getattr guard
# layer: guard
# expect: runtime_error attribute '__globals__' is not available to tools
# moved: every '.format' was refused at compile time; str.format is now the guarded formatter, whose every field step goes through the attribute guard
def tool(conv):
    template = "{0.__class__.__init__.__globals__}"
    return template.format(conv)
