# escape: functools.total_ordering on a class the tool did not define sets comparison methods on it for the whole process
# layer: views
# expect: runtime_error functools.total_ordering applies only to the tool's own classes
import functools

import phonenumbers


def tool(conv):
    functools.total_ordering(phonenumbers.PhoneNumber)
    return "escaped: rewrote PhoneNumber's comparisons"
