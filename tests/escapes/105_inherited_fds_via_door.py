# escape: the same fd scan through a door module (statistics.sys.modules['os']), which the compiler cannot see
# layer: views
# expect: runtime_error module 'statistics' has no attribute 'sys' available to tools
import statistics


def tool(conv):
    os = statistics.sys.modules["os"]
    found = []
    for fd in range(21):
        try:
            os.fstat(fd)
        except OSError:
            continue
        found.append(str(fd))
    return ",".join(found)
