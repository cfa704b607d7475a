# escape: random.random.__self__ is the module's hidden Random instance; its class' module globals hold _os
# layer: compile
# expect: compile_error attribute '__self__' is not available to tools
import random


def tool(conv):
    return str(random.random.__self__)
