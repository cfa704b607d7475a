# escape: every module attribute of every allowed module (uuid.os, calendar.sys, statistics.sys, urllib.parse.sys, base64.binascii...)
# layer: views
# expect: contained
import base64
import calendar
import collections
import datetime
import json
import re
import statistics
import textwrap
import typing
import urllib.parse
import uuid

# In Python 3.11 each of these attributes is a real module object.
DOORS = (
    ("base64.binascii", lambda: base64.binascii),
    ("base64.re", lambda: base64.re),
    ("base64.struct", lambda: base64.struct),
    ("calendar.datetime", lambda: calendar.datetime),
    ("calendar.sys", lambda: calendar.sys),
    ("collections.abc", lambda: collections.abc),
    ("datetime.sys", lambda: datetime.sys),
    ("json.codecs", lambda: json.codecs),
    ("json.decoder", lambda: json.decoder),
    ("json.encoder", lambda: json.encoder),
    ("json.scanner", lambda: json.scanner),
    ("re.copyreg", lambda: re.copyreg),
    ("re.enum", lambda: re.enum),
    ("re.functools", lambda: re.functools),
    ("statistics.math", lambda: statistics.math),
    ("statistics.numbers", lambda: statistics.numbers),
    ("statistics.random", lambda: statistics.random),
    ("statistics.sys", lambda: statistics.sys),
    ("textwrap.re", lambda: textwrap.re),
    ("typing.collections", lambda: typing.collections),
    ("typing.contextlib", lambda: typing.contextlib),
    ("typing.functools", lambda: typing.functools),
    ("typing.operator", lambda: typing.operator),
    ("typing.stdlib_re", lambda: typing.stdlib_re),
    ("typing.sys", lambda: typing.sys),
    ("typing.types", lambda: typing.types),
    ("typing.warnings", lambda: typing.warnings),
    ("urllib.parse.functools", lambda: urllib.parse.functools),
    ("urllib.parse.ipaddress", lambda: urllib.parse.ipaddress),
    ("urllib.parse.re", lambda: urllib.parse.re),
    ("urllib.parse.sys", lambda: urllib.parse.sys),
    ("urllib.parse.types", lambda: urllib.parse.types),
    ("urllib.parse.warnings", lambda: urllib.parse.warnings),
    ("uuid.os", lambda: uuid.os),
    ("uuid.platform", lambda: uuid.platform),
    ("uuid.sys", lambda: uuid.sys),
)


def tool(conv):
    opened = []
    for name, door in DOORS:
        try:
            found = door()
        except AttributeError:
            continue
        if type(found).__name__ == "ModuleView":
            continue  # collections.abc: a listed submodule, itself a view (not the module)
        opened.append(name)
    return "escaped: " + ", ".join(opened) if opened else "contained"
