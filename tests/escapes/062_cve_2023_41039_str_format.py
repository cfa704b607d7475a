# escape: CVE-2023-41039: str.format field syntax reads attributes of its arguments outside the getattr guard
# layer: compile
# expect: compile_error attribute 'format' is not allowed
def tool(conv):
    template = "{0.__class__.__init__.__globals__}"
    return template.format(conv)
