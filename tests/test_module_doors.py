"""The doors each module view leaves out or guards (sandbox/child/views.py,
sandbox/child/modules/), with the message the tool sees: refused at compile time where the
source shows the door, at run time otherwise, in the real confined pool. The realistic
uses of the same modules are in tests/test_modules.py.

Security tests here never skip.
"""

from __future__ import annotations

import pytest

from sandbox.compile.compiler import compile_bundle
from sandbox.errors import CompileFailure
from sandbox.result import Status
from tests.conftest import run_source

# ---------------------------------------------------------------------------------------
# the doors each view leaves out or guards, with the message the tool sees
# ---------------------------------------------------------------------------------------

REFUSED_AT_COMPILE = {
    "zoneinfo.reset_tzpath": (
        "from zoneinfo import reset_tzpath\n",
        "'reset_tzpath' cannot be imported from 'zoneinfo'",
    ),
    "zoneinfo.TZPATH": ("from zoneinfo import TZPATH\n", "'TZPATH' cannot be imported from 'zoneinfo'"),
    "dateutil.tz.tzfile": ("from dateutil.tz import tzfile\n", "'tzfile' cannot be imported from 'dateutil.tz'"),
    "logging.FileHandler": ("from logging import FileHandler\n", "'FileHandler' cannot be imported from 'logging'"),
    "logging.Handler": ("from logging import Handler\n", "'Handler' cannot be imported from 'logging'"),
    "logging.config": ("import logging.config\n", "import of 'logging.config' is not allowed"),
    "logging.handlers": ("import logging.handlers\n", "import of 'logging.handlers' is not allowed"),
    "typing.get_type_hints": (
        "from typing import get_type_hints\n",
        "'get_type_hints' cannot be imported from 'typing' (not available to tools: it "
        "evaluates string annotations as code",
    ),
    "typing.ForwardRef": ("from typing import ForwardRef\n", "'ForwardRef' cannot be imported"),
    "contextlib.redirect_stdout": (
        "from contextlib import redirect_stdout\n",
        "'redirect_stdout' cannot be imported from 'contextlib' (not available to tools: "
        "it swaps the process's real stdout; print() already writes to the call's log)",
    ),
    "contextlib.chdir": ("from contextlib import chdir\n", "'chdir' cannot be imported"),
    "io.open": ("from io import open\n", "'open' cannot be imported from 'io'"),
    "io.FileIO": ("from io import FileIO\n", "'FileIO' cannot be imported from 'io'"),
    "csv.field_size_limit": ("from csv import field_size_limit\n", "'field_size_limit' cannot be imported"),
    "email.utils.make_msgid": ("from email.utils import make_msgid\n", "'make_msgid' cannot be imported"),
    "enum.EnumMeta": ("from enum import EnumMeta\n", "'EnumMeta' cannot be imported from 'enum'"),
    "enum.global_enum": ("from enum import global_enum\n", "'global_enum' cannot be imported"),
    "operator.setitem": ("from operator import setitem\n", "'setitem' cannot be imported from 'operator'"),
    "phonenumbers.geocoder": ("from phonenumbers import geocoder\n", "'geocoder' cannot be imported"),
    "string.Formatter": ("from string import Formatter\n", "'Formatter' cannot be imported from 'string'"),
    "email (the package)": ("import email.message\n", "import of 'email.message' is not allowed"),
}


@pytest.mark.parametrize("name", sorted(REFUSED_AT_COMPILE))
def test_view_doors_are_refused_at_compile_time(name):
    source, words = REFUSED_AT_COMPILE[name]
    with pytest.raises(CompileFailure) as info:
        compile_bundle({"tool.py": source})
    assert words in str(info.value)


REFUSED_AT_RUN_TIME = {
    "ZoneInfo.from_file": (
        "from zoneinfo import ZoneInfo\ndef tool(conv):\n    ZoneInfo.from_file(None)\n",
        "TypeError",
        "ZoneInfo.from_file is not available to tools (there are no files)",
    ),
    "ZoneInfo with a relative path": (
        "from zoneinfo import ZoneInfo\ndef tool(conv):\n    ZoneInfo('../../etc/passwd')\n",
        "ValueError",
        "ZoneInfo keys must refer to subdirectories of TZPATH",
    ),
    "ZoneInfo with an absolute path": (
        "from zoneinfo import ZoneInfo\ndef tool(conv):\n    ZoneInfo('/etc/localtime')\n",
        "ValueError",
        "ZoneInfo keys may not be absolute paths",
    ),
    "ZoneInfo of a name that is not a zone": (
        "from zoneinfo import ZoneInfo\ndef tool(conv):\n    ZoneInfo('Mars/Olympus_Mons')\n",
        "ZoneInfoNotFoundError",
        "No time zone found with key Mars/Olympus_Mons",
    ),
    "ZoneInfo.clear_cache": (
        "from zoneinfo import ZoneInfo\ndef tool(conv):\n    ZoneInfo.clear_cache()\n",
        "TypeError",
        "ZoneInfo.clear_cache is not available to tools",
    ),
    "a ZoneInfo subclass": (
        "from zoneinfo import ZoneInfo\nclass Mine(ZoneInfo):\n    pass\ndef tool(conv):\n    pass\n",
        "TypeError",
        "zoneinfo.ZoneInfo cannot be subclassed in tools",
    ),
    "gettz given a path": (
        "from dateutil import tz\ndef tool(conv):\n    return {'content': repr(tz.gettz('/etc/passwd'))}\n",
        None,
        "None",
    ),
    "logging.basicConfig(filename=...)": (
        "import logging\ndef tool(conv):\n    logging.basicConfig(filename='/tmp/x.log')\n",
        "ValueError",
        "logging.basicConfig(filename=...) is not available to tools: there are no files",
    ),
    "a handler that is not a NullHandler": (
        "import logging\nclass Sink:\n    pass\ndef tool(conv):\n    logging.getLogger().addHandler(Sink())\n",
        "TypeError",
        "logging handlers that write files or streams are not available to tools",
    ),
    "a logger's private manager": (
        "import logging\ndef tool(conv):\n    return logging.getLogger()._manager\n",
        "AttributeError",
        "readable only on the tool's own classes and objects",
    ),
    "copy of conv": (
        "import copy\ndef tool(conv):\n    copy.copy(conv)\n",
        "TypeError",
        "Conversation objects belong to the runtime and cannot be copied",
    ),
    "deepcopy of a structure holding conv.state": (
        "import copy\ndef tool(conv):\n    copy.deepcopy({'s': conv.state})\n",
        "TypeError",
        "State objects belong to the runtime and cannot be copied",
    ),
    "attrgetter to a door": (
        "import operator\ndef tool(conv):\n    operator.attrgetter('__class__.__mro__')(conv)\n",
        "AttributeError",
        "attribute '__mro__' is not available to tools",
    ),
    "attrgetter to a runtime private": (
        "import operator\ndef tool(conv):\n    operator.attrgetter('utils._secrets')(conv)\n",
        "AttributeError",
        "readable only on the tool's own classes and objects",
    ),
    "wraps with a custom assigned": (
        "import functools\ndef f():\n    pass\ndef tool(conv):\n    functools.wraps(f, assigned=('__code__',))(tool)\n",
        "TypeError",
        "functools.wraps/update_wrapper take only the default assigned= and updated= in tools",
    ),
    "make_dataclass with a hook member": (
        "import dataclasses\ndef tool(conv):\n    dataclasses.make_dataclass('X', [], namespace={'__del__': print})\n",
        "TypeError",
        "defining '__del__' is not allowed",
    ),
    "make_dataclass with a name that is not an identifier": (
        "import dataclasses\ndef tool(conv):\n    dataclasses.make_dataclass('X', ['a b'])\n",
        "TypeError",
        "field names must be identifiers",
    ),
    "ABCMeta called directly": (
        "from abc import ABCMeta\ndef tool(conv):\n    ABCMeta('X', (), {})\n",
        "TypeError",
        "ABCMeta(...) cannot build classes in tools; write a class statement",
    ),
    "register on a standard ABC": (
        "from collections.abc import Mapping\nclass Fake:\n    pass\ndef tool(conv):\n    Mapping.register(Fake)\n",
        "AttributeError",
        "register() is available only on the tool's own ABCs",
    ),
    "a member left out, read from the view": (
        "import contextlib\ndef tool(conv):\n    contextlib.redirect_stdout\n",
        "AttributeError",
        "module 'contextlib' has no attribute 'redirect_stdout' available to tools: it swaps the "
        "process's real stdout; print() already writes to the call's log",
    ),
    "hashlib.new, read from the view": (
        "import hashlib\ndef tool(conv):\n    hashlib.new('sha256')\n",
        "AttributeError",
        "call the constructor by name: hashlib.sha256(data)",
    ),
    "typing.get_type_hints, read from the view": (
        "import typing\ndef tool(conv):\n    typing.get_type_hints(tool)\n",
        "AttributeError",
        "read annotations with fn.__annotations__",
    ),
    "re.DEBUG": (
        "import re\ndef tool(conv):\n    re.compile('a', 128)\n",
        "ValueError",
        "re.DEBUG is not available to tools: it prints the compiled pattern to the process's stdout",
    ),
    "the class of a gettz zone, called with a path": (
        "from dateutil import tz\ndef tool(conv):\n    type(tz.gettz('Europe/London'))('/etc/localtime')\n",
        "TypeError",
        "dateutil.tz.tzfile is not available to tools: it reads a file by path; use dateutil.tz.gettz(name)",
    ),
    "update_wrapper from a class": (
        "import functools\nclass W:\n    pass\ndef tool(conv):\n    functools.update_wrapper(W(), type)\n",
        "TypeError",
        "functools.wraps/update_wrapper cannot wrap a class in tools; wrap a function",
    ),
    "decimal.DefaultContext written": (
        "import decimal\ndef tool(conv):\n    decimal.DefaultContext.prec = 3\n",
        "TypeError",
        "decimal.DefaultContext is read-only in tools (every new context in the process is made "
        "from the templates); set the call's own context instead: decimal.getcontext().prec = 12",
    ),
    "decimal.ExtendedContext's traps written": (
        "import decimal\ndef tool(conv):\n    decimal.ExtendedContext.traps[decimal.Inexact] = True\n",
        "TypeError",
        "decimal.ExtendedContext is read-only in tools",
    ),
    "a library base's private state on a tool subclass": (
        "import phonenumbers\nclass F(phonenumbers.AsYouTypeFormatter):\n    pass\n"
        "def tool(conv):\n    return F('GB')._current_metadata\n",
        "AttributeError",
        "'AsYouTypeFormatter', a base class the tool did not define, keeps its own state in these "
        "objects under names starting with '_'; name your own attributes without a leading '_', or with two",
    ),
    "a StreamHandler given a stream": (
        "import io, logging\ndef tool(conv):\n    logging.StreamHandler(io.StringIO())\n",
        "TypeError",
        "logging.StreamHandler(stream) is not available to tools: there are no streams",
    ),
    "deepcopy with a memo the tool made": (
        "import copy\ndef tool(conv):\n    copy.deepcopy([1], {})\n",
        "TypeError",
        "deepcopy(x, memo): memo must be the one your __deepcopy__(self, memo) was given",
    ),
    "singledispatch annotation that is an expression": (
        "import functools\n@functools.singledispatch\ndef f(x):\n    pass\n"
        "def g(x: 'int if True else str'):\n    pass\ndef tool(conv):\n    f.register(g)\n",
        "TypeError",
        "in tools a string annotation must name a class (such as 'int' or 'models.Booking')",
    ),
    "singledispatch reading a runtime function's annotations": (
        "import functools, json\n@functools.singledispatch\ndef f(x):\n    pass\n"
        "def tool(conv):\n    f.register(json.dumps)\n",
        "TypeError",
        "register() reads the annotations of the tool's own functions only",
    ),
    "make_dataclass with a Field subclass": (
        "import dataclasses\nclass F(dataclasses.Field):\n    pass\ndef tool(conv):\n"
        "    dataclasses.make_dataclass('X', [('a', int, F(1, dataclasses.MISSING, True, True, None, True, None, False))])\n",
        "TypeError",
        "a field's third item must come from dataclasses.field(...)",
    ),
    "a mutable module table": (
        "import phonenumbers\ndef tool(conv):\n    phonenumbers.COUNTRY_CODE_TO_REGION_CODE[1] = ('XX',)\n",
        "TypeError",
        "cannot assign to or delete from 'mappingproxy' objects: they are read-only to tools",
    ),
}


@pytest.mark.parametrize("name", sorted(REFUSED_AT_RUN_TIME))
def test_view_doors_are_refused_at_run_time(pool, name):
    source, kind, words = REFUSED_AT_RUN_TIME[name]
    result = run_source(pool, source)
    if kind is None:
        assert result.status is Status.OK, result.error
        assert result.action["content"] == words
        return
    assert result.status is Status.RUNTIME_ERROR, result
    assert result.error.kind == kind, result.error
    assert words in result.error.message, result.error.message


@pytest.mark.system  # a fresh interpreter
def test_importing_the_runtime_leaves_copy_working_for_the_supervisor():
    """The template makes the child's process-wide patches (``entry.prepare_process``); a
    process that only imports the runtime (a supervisor's tests, the bench) keeps
    ``copy.deepcopy`` of its own objects."""
    import subprocess
    import sys

    code = (
        "import copy, sandbox.child.entry\n"
        "from sandbox.result import Result, Status\n"
        "assert copy.deepcopy(Result(status=Status.OK)).status is Status.OK\n"
        "sandbox.child.entry.prepare_process()\n"
        "try:\n    copy.deepcopy(Status.OK)\nexcept TypeError as e:\n    print(e)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Status objects belong to the runtime and cannot be copied" in done.stdout
