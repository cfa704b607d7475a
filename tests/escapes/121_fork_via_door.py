# escape: fork through a door module (calendar.sys.modules['os']), where the compiler's import check cannot see it
# layer: views
# expect: runtime_error module 'calendar' has no attribute 'sys' available to tools
import calendar


def tool(conv):
    os = calendar.sys.modules["os"]
    pid = os.fork()
    return "forked " + str(pid)
