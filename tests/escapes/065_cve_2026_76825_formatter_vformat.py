# escape: CVE-2026-76825 / CVE-2023-41039: string.Formatter().vformat walks attributes; reached through the module, no from-import
# layer: views
# expect: runtime_error module 'string' has no attribute 'Formatter' available to tools
# moved: '.vformat' was refused at compile time; the string view still leaves Formatter out, so there is no vformat to reach
import string


def tool(conv):
    return string.Formatter().vformat("{0.__class__}", [conv], {})
