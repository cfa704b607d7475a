# escape: type(name, bases, dict) builds a class with any dunder (here __getattribute__) around the class guard
# layer: guard
# expect: runtime_error type() takes one argument in tools
# moved: 'type' was not a builtin; the tools' type() now takes one argument only
def tool(conv):
    Evil = type("Evil", (object,), {"__getattribute__": lambda self, name: name})
    return str(Evil().anything)
