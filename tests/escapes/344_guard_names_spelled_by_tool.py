# escape: the guards were once called _getattr_/_write_; a tool that binds those names hopes compiled attribute reads call its own functions
# layer: guard
# expect: runtime_error not on 'Utils' objects
# the compiler calls the guards by names no identifier can spell ($getattr...): these are the tool's own variables
_getattr_ = lambda obj, name: object
_write_ = lambda obj: obj
_getitem_ = None


def tool(conv):
    return str(conv.utils._secrets)
