# escape: copy.deepcopy(obj, memo) keeps the originals it reduced in memo[id(memo)], including a runtime object's real __dict__: rewrite phonenumbers' shared metadata
# layer: views
# expect: contained
# LIVE today: the deepcopy stand-in accepts a caller's memo dict; __reduce_ex__ hands copy
# the object's own __dict__ as its state, and _keep_alive stores it in the memo. Through it
# the shared PhoneMetadata of GB is rewritten for every later call in the process.
import copy

import phonenumbers


def kept_originals(obj):
    memo = {}
    copy.deepcopy(obj, memo)
    for value in memo.values():
        if type(value) is list and any(item is obj for item in value):
            return value
    return []


def tool(conv):
    before = phonenumbers.country_code_for_region("GB")
    try:
        kept = kept_originals(phonenumbers.AsYouTypeFormatter("GB"))
    except Exception as exc:
        return "contained" if "tool" in str(exc) or "memo" in str(exc) else "failed for another reason: %s" % exc
    for state in kept:
        if type(state) is dict and "_current_metadata" in state:
            for inner in kept_originals(state["_current_metadata"]):
                if type(inner) is dict and "country_code" in inner:
                    inner["country_code"] = 999
            after = phonenumbers.country_code_for_region("GB")
            if after != before:
                return "escaped: GB's calling code is now %r for every later call" % after
            return "escaped: reached the private state of PhoneMetadata"
    return "contained"
