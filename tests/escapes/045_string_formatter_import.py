# escape: string.Formatter().get_field walks attributes outside the guards (CVE-2023-41039)
# layer: compile
# expect: compile_error 'Formatter' cannot be imported from 'string'
from string import Formatter


def tool(conv):
    return str(Formatter().get_field("0.__class__.__base__", [conv], {}))
