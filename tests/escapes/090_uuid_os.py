# escape: uuid.os is the os module (uuid imports it at module level): the most direct door among the allowed modules
# layer: views
# expect: runtime_error module 'uuid' has no attribute 'os' available to tools
import uuid


def tool(conv):
    return uuid.os.popen("id").read()
