# escape: os.fork() a child that outlives the call
# layer: compile
# expect: compile_error import of 'os' is not allowed
import os


def tool(conv):
    if os.fork() == 0:
        while True:
            pass
    return "forked"
