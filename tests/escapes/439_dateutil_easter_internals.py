# escape: walk from dateutil.easter.easter to its module globals (datetime, the module)
# layer: guard
# expect: runtime_error attribute '__globals__' is not available to tools
from dateutil import easter


def tool(conv):
    return repr(getattr(easter.easter, "__globals__"))
