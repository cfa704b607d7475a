# escape: type(name, bases, dict) builds a class with any dunder (here __getattribute__) around the class guard
# layer: compile
# expect: compile_error 'type' is not allowed
def tool(conv):
    Evil = type("Evil", (object,), {"__getattribute__": lambda self, name: name})
    return str(Evil().anything)
