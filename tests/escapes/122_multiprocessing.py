# escape: multiprocessing.Process keeps running after the call
# layer: compile
# expect: compile_error import of 'multiprocessing' is not allowed
import multiprocessing


def spin():
    while True:
        pass


def tool(conv):
    multiprocessing.Process(target=spin, daemon=False).start()
    return "spawned"
