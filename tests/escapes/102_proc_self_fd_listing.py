# escape: list /proc/self/fd to find inherited descriptors (the supervisor's sockets, log files)
# layer: views
# expect: runtime_error module 'uuid' has no attribute 'os' available to tools
import uuid


def tool(conv):
    return ",".join(uuid.os.listdir("/proc/self/fd"))
