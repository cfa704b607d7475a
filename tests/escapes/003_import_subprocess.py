# escape: import subprocess and run a program
# layer: compile
# expect: compile_error import of 'subprocess' is not allowed
import subprocess


def tool(conv):
    return subprocess.run(["id"], capture_output=True, text=True).stdout
