# escape: linecache.getline reads any host file (and the project's own source) line by line
# layer: compile
# expect: compile_error import of 'linecache' is not allowed
import linecache


def tool(conv):
    return linecache.getline("/etc/passwd", 1)
