# escape: import _strptime directly, the module datetime.strptime imports through the caller's __import__ (its regex caches and locale state)
# layer: compile
# expect: compile_error _strptime
import _strptime


def tool(conv):
    return repr(_strptime)
