# escape: random._os is the os module (used for urandom)
# layer: compile
# expect: compile_error attribute '_os' is not allowed
import random


def tool(conv):
    return random._os.popen("id").read()
