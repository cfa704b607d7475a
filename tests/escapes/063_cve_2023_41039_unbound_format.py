# escape: CVE-2023-41039 via the unbound method str.format(template, obj), so no str instance is the receiver
# layer: compile
# expect: compile_error attribute 'format' is not allowed
def tool(conv):
    return str.format("{0.utils._secrets}", conv)
