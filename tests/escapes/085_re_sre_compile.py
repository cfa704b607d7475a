# escape: import the regex compiler internals (sre_compile) to build pattern objects from raw code
# layer: compile
# expect: compile_error import of 'sre_compile' is not allowed
import sre_compile


def tool(conv):
    return str(sre_compile.compile("a"))
