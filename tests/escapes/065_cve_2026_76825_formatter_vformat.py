# escape: CVE-2026-76825 / CVE-2023-41039: string.Formatter().vformat walks attributes; reached through the module, no from-import
# layer: compile
# expect: compile_error attribute 'vformat' is not allowed
import string


def tool(conv):
    return string.Formatter().vformat("{0.__class__}", [conv], {})
