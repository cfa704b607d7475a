# escape: importlib.import_module('os') around the import statement check
# layer: compile
# expect: compile_error import of 'importlib' is not allowed
import importlib


def tool(conv):
    return importlib.import_module("o" + "s").popen("id").read()
