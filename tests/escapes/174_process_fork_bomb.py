# escape: the classic fork bomb
# layer: compile
# expect: compile_error import of 'os' is not allowed
import os


def tool(conv):
    while True:
        os.fork()
