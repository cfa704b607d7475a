"""The escape corpus: classic sandbox escapes, each stopped by the layer that must stop it,
sandbox.compile.compiler at compile time or a guard or a view of sandbox.child.guards at run
time. Tool code runs in-process against the stand-ins of tests/guard_support.py; the guards
one by one are in tests/test_guards.py, and escapes through the real pool in tests/escapes/.

Security tests here never skip.
"""

from __future__ import annotations

import pytest

from sandbox.compile.compiler import compile_tool
from tests.guard_support import failing, load

# ---------------------------------------------------------------------------------------
# the escape corpus: classic sandbox escapes, each with the layer that must stop it
# ("compile": sandbox.compile.compiler refuses it; "run": a guard or a view refuses it)
# ---------------------------------------------------------------------------------------

ESCAPES = {
    "subclasses walk": ("compile", "def tool(conv):\n    return ().__class__.__bases__[0].__subclasses__()\n"),
    "subclasses walk by getattr": (
        "run",
        "def tool(conv):\n    return getattr(getattr((), '__class__'), '__ba' + 'ses__')\n",
    ),
    "function globals": ("compile", "def tool(conv):\n    return tool.__globals__['__builtins__']\n"),
    "function globals by getattr": ("run", "def tool(conv):\n    return getattr(tool, '__glob' + 'als__')\n"),
    "generator frame (CVE-2023-37271)": (
        "compile",
        "def tool(conv):\n    return (x for x in [1]).gi_frame.f_back.f_globals\n",
    ),
    "format walk (CVE-2023-41039)": ("run", "def tool(conv):\n    return '{0.__init__.__globals__}'.format(conv)\n"),
    "format through the class": (
        "run",
        "def tool(conv):\n    f = str.format\n    return f('{0.__init__.__globals__}', tool)\n",
    ),
    "format_map": ("run", "def tool(conv):\n    return '{x.__init__.__globals__}'.format_map({'x': tool})\n"),
    "format field without an underscore": (
        "run",
        "def tool(conv):\n    return '{0.gi_frame.f_globals}'.format(x for x in [1])\n",
    ),
    "traceback frame": (
        "compile",
        "def tool(conv):\n    try:\n        1/0\n    except Exception as e:\n        return e.__traceback__.tb_frame\n",
    ),
    "AttributeError.obj (CVE-2024-47532)": (
        "run",
        "def tool(conv):\n    try:\n        conv.nope\n    except AttributeError as e:\n        return e.obj\n",
    ),
    "datetime.sys": ("run", "import datetime\ndef tool(conv):\n    return datetime.sys.modules['os']\n"),
    "json.codecs.builtins": ("run", "import json\ndef tool(conv):\n    return json.codecs.builtins.eval\n"),
    "json.decoder module": ("compile", "from json import decoder\n"),
    "string.Formatter (CVE-2026-76825)": (
        "run",
        "import string\ndef tool(conv):\n    return string.Formatter().get_field('0.__class__', [1], {})\n",
    ),
    "typing origin walk": (
        "compile",
        "import typing\ndef tool(conv):\n    return typing.List.__origin__.__subclasses__\n",
    ),
    "getattr of a runtime private": ("run", "def tool(conv):\n    return getattr(conv, '_state')\n"),
    "vars of a runtime object": ("run", "def tool(conv):\n    return vars(conv)\n"),
    "__import__": ("compile", "def tool(conv):\n    return __import__('os').system\n"),
    "__builtins__": ("compile", "def tool(conv):\n    return __builtins__\n"),
    "exec": ("compile", "def tool(conv):\n    exec('import os')\n"),
    "eval of built text": ("compile", "def tool(conv):\n    return eval(chr(95) * 2 + 'import' + chr(95) * 2)\n"),
    "mro": ("compile", "def tool(conv):\n    return int.mro()[1]\n"),
    "type with three arguments": ("run", "def tool(conv):\n    return type('X', (), {})\n"),
    "type of type with three arguments": ("run", "def tool(conv):\n    return type(type(int))('X', (), {})\n"),
    "metaclass": ("run", "class M(type(int)):\n    pass\ndef tool(conv):\n    pass\n"),
    "super() to object's internals": (
        "compile",
        "class A:\n    def go(self):\n        return super().__getattribute__\ndef tool(conv):\n    return A().go()\n",
    ),
    "super(RuntimeClass, runtime object).__setattr__": (
        "run",
        "def tool(conv):\n    super(type(conv.state), conv.state).__setattr__('_data', {})\n",
    ),
    "try/except* (CVE-2025-22153)": (
        "compile",
        "def tool(conv):\n    try:\n        raise ValueError\n    except* ValueError as eg:\n        return eg\n",
    ),
    "print to an object with write": (
        "run",
        "class W:\n    def write(self, s):\n        pass\ndef tool(conv):\n    print('x', file=W())\n",
    ),
    "property getter": ("run", "def tool(conv):\n    return type(conv).variant.fget(conv)\n"),
    "module view __dict__": ("run", "import json\ndef tool(conv):\n    return json.__dict__\n"),
    "module view replaced member": ("run", "import json\ndef tool(conv):\n    json.loads = len\n"),
    "copy of a runtime object": ("run", "import copy, json\ndef tool(conv):\n    return copy.copy(json)\n"),
    "attrgetter to a door": (
        "run",
        "from operator import attrgetter\ndef tool(conv):\n    return attrgetter('__init__.__globals__')(tool)\n",
    ),
    "attrgetter to a runtime private": (
        "run",
        "from operator import attrgetter\ndef tool(conv):\n    return attrgetter('state._data')(conv)\n",
    ),
    "methodcaller of a door": (
        "run",
        "from operator import methodcaller\ndef tool(conv):\n    return methodcaller('__reduce_ex__', 2)(conv)\n",
    ),
    "wraps copying __code__": (
        "run",
        "import functools\ndef a():\n    pass\ndef tool(conv):\n    return functools.wraps(a, assigned=('__code__',))(tool)\n",
    ),
    "update_wrapper onto a runtime function": (
        "run",
        "import functools, json\ndef tool(conv):\n    functools.update_wrapper(json.dumps, tool)\n",
    ),
    "total_ordering on a runtime class": (
        "run",
        "import functools\ndef tool(conv):\n    functools.total_ordering(type(conv))\n",
    ),
    "re.enum.sys": ("run", "import re\ndef tool(conv):\n    return re.enum.sys\n"),
    "urllib.request": ("run", "import urllib.parse\ndef tool(conv):\n    return urllib.request.urlopen\n"),
    "match value pattern reading a door": (
        "compile",
        "def tool(conv):\n    match conv:\n        case tool.__globals__:\n            return 1\n",
    ),
    "async": ("compile", "async def tool(conv):\n    pass\n"),
    "write through a starred target": ("run", "def tool(conv):\n    a, *conv.env = [1, 2]\n"),
    "importing the runtime": ("compile", "import sandbox.child.guards\n"),
    "__del__ set after the class is built": (
        "run",
        "class A:\n    pass\ndef tool(conv):\n    setattr(A, '__del__', lambda self: None)\n",
    ),
    "ABCMeta called directly": (
        "run",
        "from abc import ABCMeta\ndef tool(conv):\n    return ABCMeta('X', (), {'__del__': lambda s: 1})\n",
    ),
    "make_dataclass with a hook": (
        "run",
        "import dataclasses\ndef tool(conv):\n    return dataclasses.make_dataclass('X', [], namespace={'__del__': len})\n",
    ),
    "namedtuple with a module": (
        "run",
        "import collections\ndef tool(conv):\n    return collections.namedtuple('P', 'x', module='sandbox')\n",
    ),
}


@pytest.mark.parametrize("name", sorted(ESCAPES))
def test_escape_is_stopped_by_its_layer(name):
    layer, source = ESCAPES[name]
    from sandbox.compile.compiler import CompileErrors

    if layer == "compile":
        with pytest.raises(CompileErrors):
            compile_tool(source)
        return
    namespace, _ = load(source) if "class M(" not in source else (None, None)
    if namespace is None:
        with pytest.raises(TypeError):
            load(source)
        return
    error, line = failing(source)
    assert isinstance(error, (AttributeError, TypeError, ImportError)), repr(error)
    assert line is not None
