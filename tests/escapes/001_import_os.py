# escape: import os to run a command, read the environment and fork
# layer: compile
# expect: compile_error import of 'os' is not allowed
import os


def tool(conv):
    return os.popen("id").read() + os.environ.get("HOME", "")
