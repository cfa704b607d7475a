# escape: install _missing_ on a standard library enum (re.RegexFlag, uuid.SafeUUID) so its lookups run tool code; global_enum through the view
# layer: guard
# expect: contained
import enum
import re
import uuid


def missing(cls, value):
    return "hooked"


def tool(conv):
    for target in (type(re.IGNORECASE), type(uuid.uuid4().is_safe)):
        try:
            setattr(target, "_missing_", classmethod(missing))
        except AttributeError as exc:
            if "read-only to tools" not in str(exc) and "belong to the class" not in str(exc):
                return "%r refused for another reason: %s" % (target, exc)
            continue
        return "escaped: set _missing_ on %r" % target
    for name in ("global_enum", "EnumMeta", "EnumType", "_simple_enum", "_EnumDict"):
        try:
            getattr(enum, name)
        except AttributeError as exc:
            if "available to tools" not in str(exc):
                return "enum.%s refused for another reason: %s" % (name, exc)
            continue
        return "escaped: enum.%s is reachable" % name
    return "contained"
