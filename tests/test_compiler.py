"""sandbox.compile.compiler: what compiles, what is refused with which file and line, and the
cache. Bundles are in tests/test_compiler_bundles.py; the compiler's totality (any input
gives a CompiledTool or a CompileFailure) is checked in tests/test_compiler_totality.py.

Security tests here never skip. Seed examples live in test_guards_seeds.py, which compiles AND
runs them; this file checks that they compile and that their functions are found.
"""

from __future__ import annotations

import dataclasses
import marshal
import types
import warnings
from types import MappingProxyType

import pytest

from sandbox.compile.compiler import (
    MAX_AST_DEPTH,
    CompiledTool,
    CompileErrors,
    compile_cache_clear,
    compile_cache_info,
    compile_tool,
)
from sandbox.errors import CompileFailure, InvalidInput
from sandbox.policy import DEFAULT_POLICY
from sandbox.result import Status

# ---------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------


def refused(source: str, filename: str = "tool.py", policy=DEFAULT_POLICY) -> CompileErrors:
    with pytest.raises(CompileErrors) as info:
        compile_tool(source, filename, policy)
    return info.value


def in_function(statement: str) -> str:
    """A statement placed at line 3 of a tool function."""
    return f"def tool(conv):\n    x = 1\n    {statement}\n    return x\n"


# ---------------------------------------------------------------------------------------
# what compiles
# ---------------------------------------------------------------------------------------

ALLOWED = {
    "seed start_function": (
        "import datetime as dt\n\ndef start_function(conv: Conversation):\n"
        "    now = dt.datetime.now()\n    conv.state.current_date = now.strftime('%A %d-%m-%Y')\n"
        "    return str()\n"
    ),
    "seed voice import": (
        "def start_function(conv: Conversation):\n"
        "    from polyai.voice import CartesiaVoice\n"
        "    conv.set_voice(CartesiaVoice(provider_voice_id='your-voice-id'))\n    return str()\n"
    ),
    "class with property": (
        "class Booking(object):\n    def __init__(self, when):\n        self.when = when\n"
        "    @property\n    def label(self):\n        return f'at {self.when}'\n"
    ),
    "custom exception": "class BookingError(Exception):\n    pass\n",
    "generator function": "def numbers(n):\n    for i in range(n):\n        yield i\n",
    "generator expression": "def tool(conv):\n    return sum(x * x for x in range(10))\n",
    "annotated assignment": "LIMIT: int = 3\ndef tool(conv) -> dict:\n    n: int = LIMIT\n    return {'n': n}\n",
    "future annotations": "from __future__ import annotations\ndef tool(conv: Conversation) -> str:\n    return ''\n",
    "typing hints": "from typing import Optional, Dict, Any\ndef tool(conv, x: Optional[str] = None) -> Dict[str, Any]:\n    return {}\n",
    "star args and kwargs": "def f(*args, **kwargs):\n    return args, kwargs\ndef tool(conv):\n    return f(*[1], **{'a': 2})\n",
    "unpacking": "def tool(conv):\n    a, (b, *c) = 1, (2, 3, 4)\n    for k, v in {'a': 1}.items():\n        pass\n    return a\n",
    "with statement": "import decimal\ndef tool(conv):\n    with decimal.localcontext(prec=5):\n        return str(decimal.Decimal(1) / 3)\n",
    "lambda and sorted": "def tool(conv):\n    return sorted([3, 1], key=lambda v: -v)\n",
    "global": "COUNT = 0\ndef bump():\n    global COUNT\n    COUNT = COUNT + 1\n",
    "walrus": "def tool(conv):\n    if (n := len('abc')) > 2:\n        return n\n",
    "assert and del": "def tool(conv):\n    d = {'a': 1}\n    del d['a']\n    assert not d, 'empty'\n",
    "a builtin name the file binds itself": "def tool(conv):\n    input = conv.state.text\n    type = 'x'\n    return input, type\n",
    "underscore alone": "def tool(conv):\n    for _ in range(2):\n        pass\n",
    "decorator": "import functools\n@functools.lru_cache(maxsize=8)\ndef square(n):\n    return n * n\n",
    "dotted imports": "import urllib.parse\nimport urllib.parse as up\nfrom urllib import parse\nimport polyai.voice\n",
    "print": "def tool(conv):\n    print('a', 1, sep='-')\n    printed = True\n    return printed\n",
    # issue 13: ordinary Python
    "private names": "_CACHE = {}\ndef _helper(x):\n    return _CACHE.get(x)\nclass A:\n    def __init__(self):\n        self._n = 0\n        self.__token = 1\n",
    "data-model methods": (
        "class Money:\n    __slots__ = ('amount',)\n    def __init__(self, amount):\n        self.amount = amount\n"
        "    def __repr__(self):\n        return f'{type(self).__name__}({self.amount!r})'\n"
        "    def __eq__(self, other):\n        return self.amount == other.amount\n"
        "    def __lt__(self, other):\n        return self.amount < other.amount\n    __hash__ = None\n"
    ),
    "super and custom exceptions": (
        "class AppError(Exception):\n    def __init__(self, message, code):\n        super().__init__(message)\n"
        "        self.code = code\nclass NotFound(AppError):\n    pass\n"
    ),
    "str.format": "def tool(conv):\n    return '{:,.2f} {name}'.format(1.5, **{'name': 'x'}) + '{a}'.format_map({'a': 1})\n",
    "type(e).__name__": "def tool(conv):\n    try:\n        1 / 0\n    except Exception as e:\n        return type(e).__name__\n",
    "getattr setattr hasattr": "def tool(conv, o):\n    setattr(o, 'x', 1)\n    return getattr(o, 'x', None), hasattr(o, 'y')\n",
    "logging": "import logging\nlogger = logging.getLogger(__name__)\ndef tool(conv):\n    logger.info('x=%s', 1)\n",
    "typing in full": "from typing import Iterator, NamedTuple, TypedDict, Protocol, Literal, cast, TYPE_CHECKING\n",
    "type checking imports": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from toolpool.tool import Conversation\n",
    "match": (
        "def tool(conv, cmd):\n    match cmd.split():\n        case ['book', when] if when:\n            return when\n"
        "        case {'kind': kind, **rest}:\n            return kind\n        case Point(x=0, y=y):\n            return y\n"
        "        case _:\n            return None\n"
    ),
    "nonlocal": "def counter():\n    n = 0\n    def bump():\n        nonlocal n\n        n += 1\n        return n\n    return bump\n",
    "names spelled like the guards": "_getattr_ = 1\n_write_ = 2\ndef f(_getitem_=None, /, *, _apply_=None):\n    _tmp0 = 3\n    return _getattr_ + _tmp0\n",
    "class keywords": "from typing import TypedDict\nclass Movie(TypedDict, total=False):\n    name: str\n",
    "metaclass keyword": "from abc import ABCMeta, abstractmethod\nclass Base(metaclass=ABCMeta):\n    @abstractmethod\n    def run(self):\n        ...\n",
    "module dunders": "__all__ = ['tool']\n__version__ = '1.0'\nNAME = __name__\n",
    "__init_subclass__ registry": "class Base:\n    kinds = {}\n    def __init_subclass__(cls, **kw):\n        super().__init_subclass__(**kw)\n        Base.kinds[cls.__name__] = cls\n",
    "augmented attribute and item with side effects": "def tool(conv):\n    pick(conv).count += 1\n    totals[key(conv)] += 1\n",
    "ellipsis body": 'def tool(conv):\n    if "booking_time" in conv.state:\n        ...\n',
}


@pytest.mark.parametrize("name", sorted(ALLOWED))
def test_allowed_source_compiles(name):
    tool = compile_tool(ALLOWED[name])
    assert isinstance(tool, CompiledTool)
    assert isinstance(marshal.loads(tool.code), types.CodeType)


def test_compiled_tool_fields():
    source = "import json\n\ndef a(conv):\n    pass\n\nX = 1\n\ndef b(conv):\n    pass\n\ndef a(conv):\n    pass\n"
    tool = compile_tool(source, "tools/pair.py")
    assert tool.filename == "tools/pair.py"
    assert tool.source == source
    assert tool.functions == ("a", "b")  # top-level defs, first appearance, no duplicates
    assert len(tool.sha256) == 64 and int(tool.sha256, 16) >= 0
    code = marshal.loads(tool.code)
    assert code.co_filename == "tools/pair.py"


def test_tool_code_does_not_inherit_the_compilers_future_flags():
    # compiler.py has `from __future__ import annotations`; tool code must not get it.
    code = marshal.loads(compile_tool("x = 1\n").code)
    assert not code.co_flags & 0x1000000  # CO_FUTURE_ANNOTATIONS


def test_class_statement_keeps_its_line():
    code = marshal.loads(compile_tool("x = 1\n\n\nclass A:\n    pass\n").code)
    class_lines = [line for _, _, line in code.co_lines() if line]
    assert 4 in class_lines and 1 in class_lines
    assert max(class_lines) == 4


# ---------------------------------------------------------------------------------------
# what is refused at compile time, with file, line and a meaningful message
# ---------------------------------------------------------------------------------------

REFUSED = {
    # name: (source, line, words the message must contain)
    "exec": (in_function("exec('import os')"), 3, "'exec' is not available to tools"),
    "eval": (in_function("x = eval('1')"), 3, "'eval' is not available to tools"),
    "eval without a call": (in_function("f = eval"), 3, "'eval' is not available to tools"),
    "open": (
        in_function("x = open('/etc/passwd').read()"),
        3,
        "'open' is not available to tools: tools have no file system; keep data in conv.state",
    ),
    "__import__": (in_function("x = __import__('os')"), 3, "name '__import__' is not available to tools"),
    "import os": ("import json\n\nimport os\n", 3, "import of 'os' is not allowed"),
    "import sys": ("import json\nimport sys\n", 2, "import of 'sys' is not allowed: sys reaches every module"),
    "import sys says what to do": ("import sys\n", 1, "for the time use datetime"),
    "import os.path": ("import os.path\n", 1, "import of 'os.path' is not allowed"),
    "from os import system": ("from os import system\n", 1, "import of 'os' is not allowed"),
    "import urllib alone is fine, urllib.request is not": ("import urllib.request\n", 1, "import of 'urllib.request'"),
    "import subprocess in a function": (in_function("import subprocess"), 3, "import of 'subprocess'"),
    "from datetime import sys": ("from datetime import sys\n", 1, "'sys' cannot be imported from 'datetime'"),
    "from json import codecs": ("from json import codecs\n", 1, "'codecs' cannot be imported from 'json'"),
    "from string import Formatter": (
        "from string import Formatter\n",
        1,
        "'Formatter' cannot be imported from 'string'",
    ),
    "logging.config": ("import logging.config\n", 1, "import of 'logging.config' is not allowed"),
    "FileHandler": ("from logging import FileHandler\n", 1, "'FileHandler' cannot be imported from 'logging'"),
    "get_type_hints": ("from typing import get_type_hints\n", 1, "'get_type_hints' cannot be imported from 'typing'"),
    "redirect_stdout": ("from contextlib import redirect_stdout\n", 1, "'redirect_stdout' cannot be imported"),
    "io.open": ("from io import open\n", 1, "'open' cannot be imported from 'io'"),
    "star import": ("from math import *\n", 1, "'import *' is not allowed"),
    "relative import": ("from . import helpers\n", 1, "relative imports are not allowed"),
    "other __future__ feature": ("from __future__ import barry_as_FLUFL\n", 1, "'barry_as_FLUFL' cannot be imported"),
    "import __future__": ("import __future__\n", 1, "import of '__future__' is not allowed"),
    "subclasses walk": (in_function("x = ().__class__.__base__.__subclasses__()"), 3, "'__base__' is not available"),
    "type(x).mro()": (in_function("x = type(x).mro()"), 3, "'mro' is not available"),
    "mro on a class": (in_function("x = int.mro()"), 3, "'mro' is not available"),
    "__mro__": (in_function("x = int.__mro__"), 3, "'__mro__' is not available"),
    "__bases__": (in_function("x = int.__bases__"), 3, "'__bases__' is not available"),
    "generator gi_frame": (in_function("x = (i for i in []).gi_frame"), 3, "'gi_frame' is not available"),
    "generator gi_code": (in_function("x = (i for i in []).gi_code"), 3, "'gi_code' is not available"),
    "frame f_back": (in_function("x = x.f_back"), 3, "'f_back' is not available"),
    "frame f_globals": (in_function("x = x.f_globals"), 3, "'f_globals' is not available"),
    "traceback tb_frame": (
        "def tool(conv):\n    try:\n        1 / 0\n    except Exception as e:\n        return e.__traceback__.tb_frame\n",
        5,
        "'__traceback__' is not available",
    ),
    "tb_frame by name": (in_function("x = x.tb_frame"), 3, "'tb_frame' is not available"),
    "cell contents": (in_function("x = x.cell_contents"), 3, "'cell_contents' is not available"),
    "function globals": (in_function("x = tool.__globals__"), 3, "'__globals__' is not available"),
    "function code": (in_function("x = tool.__code__"), 3, "'__code__' is not available"),
    "__getattribute__": (in_function("x = object.__getattribute__(x, 'y')"), 3, "'__getattribute__' is not available"),
    "__reduce_ex__": (in_function("x = x.__reduce_ex__(2)"), 3, "'__reduce_ex__' is not available"),
    "__self__": (in_function("x = len.__self__"), 3, "'__self__' is not available"),
    "globals": (in_function("x = globals()"), 3, "'globals' is not available to tools"),
    "locals": (in_function("x = locals()"), 3, "'locals' is not available"),
    "dir": (in_function("x = dir(x)"), 3, "'dir' is not available"),
    "compile": (in_function("x = compile('1', 'f', 'eval')"), 3, "'compile' is not available"),
    "breakpoint": (in_function("breakpoint()"), 3, "'breakpoint'"),
    "input": (in_function("x = input()"), 3, "'input' is not available"),
    "memoryview": (in_function("x = memoryview(b'x')"), 3, "'memoryview' is not available"),
    "id": (in_function("x = id(x)"), 3, "'id' is not available"),
    "BaseException": (in_function("x = BaseException"), 3, "'BaseException' is not available"),
    "__builtins__": (in_function("x = __builtins__"), 3, "name '__builtins__' is not available"),
    "__build_class__": (in_function("x = __build_class__"), 3, "name '__build_class__' is not available"),
    "binding __builtins__": ("__builtins__ = {}\n", 1, "name '__builtins__' cannot be bound"),
    "binding __name__": ("__name__ = 'os'\n", 1, "name '__name__' cannot be bound"),
    "binding __module__ in a class": ("class A:\n    __module__ = 'sandbox'\n", 2, "'__module__' cannot be defined"),
    "setting __module__": (in_function("x.__module__ = 'sandbox'"), 3, "setting '__module__' is not allowed"),
    "setting __class__": (in_function("x.__class__ = int"), 3, "setting '__class__' is not allowed"),
    "dunder parameter": ("def f(__builtins__=None):\n    pass\n", 1, "parameter '__builtins__' is not allowed"),
    "global dunder": (in_function("global __builtins__"), 3, "'__builtins__' cannot be declared global"),
    "import as a dunder": ("import json as __builtins__\n", 1, "name '__builtins__' cannot be bound"),
    "__del__": (
        "class A:\n    def __del__(self):\n        pass\n",
        2,
        "defining '__del__' is not allowed (a finalizer",
    ),
    "__getattribute__ method": (
        "class A:\n    def __getattribute__(self, n):\n        pass\n",
        2,
        "defining '__getattribute__' is not allowed",
    ),
    "__class_getitem__": (
        "class A:\n    def __class_getitem__(cls, i):\n        pass\n",
        2,
        "defining '__class_getitem__' is not allowed",
    ),
    "__reduce__": ("class A:\n    def __reduce__(self):\n        pass\n", 2, "defining '__reduce__' is not allowed"),
    "unknown dunder method": (
        "class A:\n    def __frobnicate__(self):\n        pass\n",
        2,
        "'__frobnicate__' cannot be defined in a tool class",
    ),
    "module-level dunder function": ("def __getattr__(name):\n    pass\n", 1, "name '__getattr__' cannot be bound"),
    "match value pattern reads a door": (
        "def tool(conv, x):\n    match conv:\n        case x.__globals__:\n            pass\n",
        3,
        "'__globals__' is not available",
    ),
    "match value pattern reads a private name": (
        "def tool(conv, x):\n    match conv:\n        case x._secrets:\n            pass\n",
        3,
        "a match pattern may not name attribute '_secrets'",
    ),
    "match class pattern keyword": (
        "def tool(conv, C):\n    match conv:\n        case C(_state=s):\n            pass\n",
        3,
        "a match pattern may not name attribute '_state'",
    ),
    "try/except*": (
        "def tool(conv):\n    try:\n        pass\n    except* ValueError:\n        pass\n",
        2,
        "'try/except*' is not allowed",
    ),
    "async def": ("x = 1\nasync def tool(conv):\n    pass\n", 2, "'async def' is not allowed"),
    "await": ("def tool(conv):\n    await conv\n", 2, "'await' is not allowed"),
    "async comprehension": (in_function("x = [i async for i in x]"), 3, "'async for' is not allowed"),
    # augmented assignment is expanded (tests/test_augmented.py); only a slice with side effects is not
    "augmented slice with side effects": (in_function("x[f():] += [1]"), 3, "x[k] = x[k] + 1"),
    "module-level return": ("x = 1\nreturn x\n", 2, "'return' outside function"),
    "syntax error": ("def tool(conv):\n    x = (1,\n    return x\n", 2, "SyntaxError"),
    "indentation error": ("def tool(conv):\nreturn 1\n", 2, "IndentationError"),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refused_at_compile_time(name):
    source, line, words = REFUSED[name]
    error = refused(source)
    assert isinstance(error, CompileFailure)
    assert error.status is Status.COMPILE_ERROR
    assert words in error.message, error.message
    assert error.file == "tool.py"
    assert error.line == line, error.message
    assert f"tool.py line {line}: " in error.message


def test_error_lines_point_at_each_customer_line():
    source = (
        "import json\n"  # 1
        "import os\n"  # 2  refused
        "\n"  # 3
        "def tool(conv):\n"  # 4
        "    a = 1\n"  # 5
        "    b = eval('2')\n"  # 6  refused
        "    c = [\n"  # 7
        "        a,\n"  # 8
        "        b.__globals__,\n"  # 9  refused
        "    ]\n"  # 10
        "    return c\n"  # 11
    )
    error = refused(source)
    assert [problem.line for problem in error.errors] == [2, 6, 9]
    assert all(problem.file == "tool.py" for problem in error.errors)
    assert error.line == 2
    assert error.message.splitlines()[1].startswith("tool.py line 6: 'eval' is not available to tools")


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_error_lines_with_any_newline_convention(newline):
    source = newline.join(["x = 1", "y = 2", "z = open('f')", ""])
    assert refused(source).line == 3
    source = newline.join(["x = 1", "y = 2", "z = (", ""])
    assert refused(source).line in (3, 4)  # the parser reports the unclosed paren or EOF


def test_syntax_error_line_and_filename():
    error = refused("def tool(conv):\n    return 1\n\nx = = 2\n", "tools/booking.py")
    assert error.file == "tools/booking.py" and error.line == 4
    assert error.message.startswith("tools/booking.py line 4: SyntaxError")


def test_problems_are_capped_and_counted():
    source = "".join(f"v{i} = open('{i}')\n" for i in range(300))
    error = refused(source)
    assert len(error.errors) == 100
    assert error.omitted == 200
    assert error.message.endswith("... and 200 more problems")


def test_compile_errors_survive_pickling():
    import pickle

    error = refused("import os\n" + "".join(f"v{i} = eval('1')\n" for i in range(120)))
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is CompileErrors
    assert (copy.errors, copy.omitted, copy.message, copy.file, copy.line) == (
        error.errors,
        error.omitted,
        error.message,
        error.file,
        error.line,
    )


def test_duplicate_reports_are_merged():
    error = refused("exec('1')\n")
    assert len(error.errors) == 1


# ---------------------------------------------------------------------------------------
# bad input of every other kind
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("source", [b"x = 1", None, 42, ["x = 1"], bytearray(b"x")])
def test_source_must_be_text(source):
    error = refused(source)
    assert "source must be text" in error.message


def test_str_subclass_source_is_copied():
    class Sneaky(str):
        def __hash__(self):
            return 0

    tool = compile_tool(Sneaky("x = 1\n"))
    assert type(tool.source) is str


def test_null_byte_names_its_line():
    error = refused("x = 1\ny = 2\nz = '\x00'\n")
    assert error.line == 3 and "null byte" in error.message


def test_lone_surrogate_names_its_line():
    error = refused("x = 1\ny = '\ud800'\n")
    assert error.line == 2 and "not valid Unicode" in error.message


def test_source_size_limit():
    policy = DEFAULT_POLICY.with_limits(source_bytes=100)
    compile_tool("x = 1\n" * 16, policy=policy)
    error = refused("x = 1\n" * 17, policy=policy)
    assert "102 bytes; the limit is 100 bytes" in error.message
    # UTF-8 bytes are counted, not characters
    error = refused("s = '" + "é" * 60 + "'\n", policy=policy)
    assert "the limit is 100 bytes" in error.message


@pytest.mark.parametrize(
    "source",
    [
        "x = " + "-" * (MAX_AST_DEPTH + 5) + "1\n",
        "x = 1" + " + 1" * 5000 + "\n",
        "x = a" + ".b" * 5000 + "\n",
        "x = " + "not " * 100_000 + "y\n",
        "x = " + "-" * 200_000 + "1\n",
        "x = " + "(" * 1000 + ")" * 1000 + "\n",
        "x = " + "[" * 1000 + "]" * 1000 + "\n",
        "x = " + "lambda: " * 50_000 + "1\n",
        "f" + "()" * 10_000 + "\n",
        "".join("    " * i + "if x:\n" for i in range(120)) + "    " * 120 + "pass\n",
    ],
)
def test_deep_nesting_is_a_compile_failure(source):
    error = refused(source)
    assert error.file == "tool.py"
    assert any(
        word in error.message
        for word in ("nested too deeply", "too many", "too complex", "SyntaxError", "IndentationError", "the limit is")
    )


def test_nesting_below_the_limit_compiles():
    compile_tool("x = 1" + " + 1" * (MAX_AST_DEPTH - 10) + "\n")


def test_warnings_do_not_escape_even_as_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compile_tool("def tool(conv):\n    x = 1\n    y = x is 1\n    z = '\\d'\n    assert (x, 'never empty')\n")


@pytest.mark.parametrize("filename", ["tool.py", "tools/booking.py", "a-b/c_d/e.py", "T1.py"])
def test_good_filenames(filename):
    assert compile_tool("x = 1\n", filename).filename == filename


@pytest.mark.parametrize(
    "filename",
    [
        "/etc/tool.py",
        "../tool.py",
        "tools/../tool.py",
        "./tool.py",
        "tool.txt",
        "tool",
        ".py",
        "",
        "tool.py\n",
        "tools\\x.py",
        "é.py",
        "a b.py",
        "-x.py",
        "a//b.py",
        "a/./b.py",
        "x" * 70 + ".py",
        "/".join(["a"] * 9) + ".py",
        "tool.pyc",
        7,
        None,
        b"tool.py",
    ],
)
def test_bad_filenames(filename):
    error = refused("x = 1\n", filename)
    assert error.file is None
    assert "filename" in error.message


# ---------------------------------------------------------------------------------------
# policy
# ---------------------------------------------------------------------------------------


def test_policy_without_classes_refuses_class_statements():
    builtins = {k: v for k, v in DEFAULT_POLICY.builtins.items() if k != "__build_class__"}
    policy = dataclasses.replace(DEFAULT_POLICY, builtins=MappingProxyType(builtins))
    error = refused("x = 1\nclass A:\n    pass\n", policy=policy)
    assert error.line == 2 and "'class' definitions are not allowed" in error.message


def test_policy_without_a_module_refuses_its_import():
    error = refused("import json\n", policy=DEFAULT_POLICY.without_module("json"))
    assert "import of 'json' is not allowed" in error.message


def test_policy_with_a_module_allows_it():
    compile_tool("import array\n", policy=DEFAULT_POLICY.with_module("array", "test", {"array"}))


@pytest.mark.parametrize("module", ["os", "sys", "os.path", "importlib.util", "pickle", "sandbox.child.guards"])
def test_policy_can_never_allow_floor_modules(module):
    with pytest.raises(InvalidInput):
        compile_tool("x = 1\n", policy=DEFAULT_POLICY.with_module(module, "no", {"x"}))


@pytest.mark.parametrize("builtin", ["eval", "exec", "open", "globals", "__import__", "dir", "id"])
def test_policy_can_never_allow_floor_builtins(builtin):
    policy = dataclasses.replace(DEFAULT_POLICY, builtins=MappingProxyType({**DEFAULT_POLICY.builtins, builtin: "no"}))
    with pytest.raises(InvalidInput):
        compile_tool("x = 1\n", policy=policy)


def test_forbidden_attribute_table_is_the_policys():
    table = {k: v for k, v in DEFAULT_POLICY.forbidden_attributes.items() if k != "mro"}
    policy = dataclasses.replace(DEFAULT_POLICY, forbidden_attributes=MappingProxyType(table))
    compile_tool("x = int.mro\n", policy=policy)  # the child's floor still refuses it at run time


# ---------------------------------------------------------------------------------------
# the cache
# ---------------------------------------------------------------------------------------


def test_cache_hits_on_identical_content():
    compile_cache_clear()
    source = "def tool(conv):\n    return 'cached'\n"
    first = compile_tool(source)
    info = compile_cache_info()
    assert (info.hits, info.misses, info.entries) == (0, 1, 1)
    second = compile_tool(source)
    assert second is first
    assert compile_cache_info().hits == 1
    compile_tool(source, "other.py")  # the filename is part of the content
    compile_tool(source, policy=DEFAULT_POLICY.with_limits(source_bytes=4096))  # so is the policy
    info = compile_cache_info()
    assert (info.hits, info.misses, info.entries) == (1, 3, 3)
    assert info.bytes > 0 and info.max_entries > 0 and info.max_bytes > 0


def test_failures_are_not_cached():
    compile_cache_clear()
    for _ in range(2):
        refused("import os\n")
    assert compile_cache_info().entries == 0


def test_sha256_is_the_content_address():
    a = compile_tool("x = 1\n")
    b = compile_tool("x = 1\n", "b.py")
    c = compile_tool("x = 1\n", policy=DEFAULT_POLICY.with_limits(source_bytes=1000))
    assert len({a.sha256, b.sha256, c.sha256}) == 3
    compile_cache_clear()
    assert compile_tool("x = 1\n").sha256 == a.sha256
