"""Tools the bench runs. Tenant code: compiled by RestrictedPython like any tenant's."""

import time


def trivial(conv):
    return "ok"


def touch_state(conv):
    conv.state.touched = True
    return ""


def spin(conv):
    while True:
        pass


def hog(conv):
    chunks = []
    while True:
        chunks.append("x" * (8 * 1024 * 1024))


def slow(conv, ms=300):
    time.sleep(ms / 1000)
    return "slept"
