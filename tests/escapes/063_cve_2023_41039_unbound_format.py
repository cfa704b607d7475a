# escape: CVE-2023-41039 via the unbound method str.format(template, obj), so no str instance is the receiver
# layer: guard
# expect: runtime_error readable only on the tool's own classes and objects
# moved: every '.format' was refused at compile time; str.format, bound or not, is now the guarded formatter
def tool(conv):
    return str.format("{0.utils._secrets}", conv)
