# escape: uuid.getnode/uuid1 read the host's hardware address (and may run ifconfig/ip to find it)
# layer: views
# expect: runtime_error module 'uuid' has no attribute 'getnode' available to tools
import uuid


def tool(conv):
    return str(uuid.getnode())
