# escape: call abc.ABCMeta("Hook", (), {...}) to build a class with refused members around the class guard
# layer: views
# expect: runtime_error ABCMeta(...) cannot build classes in tools
import abc


def finalizer(self):
    pass


def tool(conv):
    Hook = abc.ABCMeta("Hook", (), {"__del__": finalizer})
    return "escaped: %r" % Hook
