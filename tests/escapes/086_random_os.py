# escape: random._os is the os module (used for urandom)
# layer: guard
# expect: runtime_error readable only on the tool's own classes and objects
# moved: private names were refused at compile time; a module view is the runtime's object, so its private names stay unreadable
import random


def tool(conv):
    return random._os.popen("id").read()
