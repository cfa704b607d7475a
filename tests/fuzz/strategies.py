"""Hypothesis strategies for hostile requests: names, JSON texts, raw protobuf, tool sources, ASTs.

Every strategy draws from a mix of values the service knows (real tenants, versions,
functions), values that sit on a boundary (a name one character too long, a string that
is almost JSON) and values that are simply wrong. The strategies never draw a canary
(tests/fuzz/conftest.py): whatever a response contains of one came from the server.
"""

from __future__ import annotations

import ast
import json

from hypothesis import assume
from hypothesis import strategies as st

from sandbox.supervisor.normalize import CONVERSATION_KEYS

# -- names and scalars ------------------------------------------------------------------------

ASCII_PRINTABLE = st.characters(min_codepoint=0x20, max_codepoint=0x7E)


def mostly(good: st.SearchStrategy, bad: st.SearchStrategy, tenths: int = 8) -> st.SearchStrategy:
    """``good`` about ``tenths``/10 of the time, else ``bad``: most requests get past validation
    to the deeper layers, and shrinking goes towards the good side."""
    return st.integers(0, 9).flatmap(lambda i: good if i < tenths else bad)


def names(known: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(known),
        st.sampled_from(
            [
                "",
                " ",
                "*",
                "acme ",
                " acme",
                "ACME",
                "acme\x00",
                "acme/../globex",
                "a" * 129,
                "é",
                "a.b-c_d",
                "-x",
                "x" * 64,
                "x" * 65,
                "\u202e",
                "con",
                "%s%n",
                "' OR 1=1 --",
            ]
        ),
        st.text(max_size=40),
        st.text(alphabet=ASCII_PRINTABLE, min_size=200, max_size=5000),
    )


def uint32() -> st.SearchStrategy[int]:
    return st.one_of(
        st.sampled_from([0, 1, 19, 20, 21, 100, 999, 1000, 1001, 5000, 5001, 2**31, 2**32 - 1]),
        st.integers(0, 2**32 - 1),
    )


# -- JSON texts -----------------------------------------------------------------------------------

_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
)
JSON_VALUES = st.recursive(
    _SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=25,
)

# Every key the service knows, and two it must refuse.
_CONVERSATION_KEYS = [*CONVERSATION_KEYS, "unknown_key", "__class__"]


def _deep(n: int, kind: str) -> str:
    if kind == "list":
        return "[" * n + "]" * n
    if kind == "dict":
        return '{"a":' * n + "1" + "}" * n
    return '{"state": ' + '{"a":' * n + "1" + "}" * n + "}"


JSON_TEXTS = st.one_of(
    JSON_VALUES.map(json.dumps),
    st.fixed_dictionaries({}, optional=dict.fromkeys(_CONVERSATION_KEYS, JSON_VALUES)).map(json.dumps),
    st.text(max_size=200),
    st.sampled_from(
        [
            "{",
            "}",
            "[1,]",
            '{"a":1,}',
            "NaN",
            "Infinity",
            "-Infinity",
            '{"x": NaN}',
            "1e999",
            "9" * 5000,
            '"\\ud800"',
            '{"state": {"a": "\\udfff"}}',
            "\ufeff{}",
            "{}\x00",
            "null",
            '{"state": []}',
            '{"state": {"__class__": 1}}',
            '{"variants": {"a": 1}, "variant": "a"}',
        ]
    ),
    st.tuples(st.integers(1, 100_000), st.sampled_from(["list", "dict", "state"])).map(lambda t: _deep(*t)),
    st.integers(1_000, 300_000).map(lambda n: json.dumps({"state": {"big": "x" * n}})),
)


_TEXT = st.text(max_size=20)
CONVERSATIONS = st.fixed_dictionaries(
    {},
    optional={
        "state": st.dictionaries(st.text(max_size=10), JSON_VALUES, max_size=5),
        "env": st.one_of(st.sampled_from(["sandbox", "live", "draft"]), _TEXT),
        "channel_type": _TEXT,
        "caller_number": _TEXT,
        "callee_number": _TEXT,
        "sip_headers": st.dictionaries(_TEXT, _TEXT, max_size=3),
        "integration_attributes": st.dictionaries(_TEXT, _TEXT, max_size=3),
        "variants": st.dictionaries(
            st.text(min_size=1, max_size=8), st.dictionaries(_TEXT, _TEXT, max_size=3), max_size=2
        ),
        "variant": _TEXT,
    },
)
ARGS = st.one_of(
    st.dictionaries(st.sampled_from(["name", "n", "x", "a", "kwargs"]), JSON_VALUES, max_size=3),
    st.lists(JSON_VALUES, max_size=3),
)

# -- raw protobuf -------------------------------------------------------------------------------


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def length_delimited(field_number: int, payload: bytes) -> bytes:
    return varint(field_number << 3 | 2) + varint(len(payload)) + payload


INVALID_UTF8 = st.sampled_from(
    [
        b"\xff",
        b"\xc3\x28",
        b"\xe2\x28\xa1",
        b"\xed\xa0\x80",
        b"\xf0\x28\x8c\xbc",
        b"acme\x80",
        b"\xc0\xaf",
        b"\xf8\x88\x80\x80\x80",
    ]
)


# -- tool sources and ASTs ---------------------------------------------------------------------

_SAFE_NAMES = [
    "conv",
    "log",
    "x",
    "y",
    "i",
    "data",
    "print",
    "len",
    "str",
    "range",
    "list",
    "dict",
    "json",
    "time",
    "math",
    "sorted",
    "min",
    "max",
    "abs",
    "int",
    "float",
    "bool",
    "tuple",
    "enumerate",
    "zip",
    "isinstance",
    "ValueError",
    "KeyError",
    "map",
    "repr",
    "iter",
    "next",
]
_HOSTILE_NAMES = [
    "getattr",
    "type",
    "open",
    "__import__",
    "globals",
    "vars",
    "dir",
    "object",
    "__builtins__",
    "_",
    "__name__",
    "super",
    "id",
    "hash",
    "eval",
    "exec",
    "compile",
    "breakpoint",
    "setattr",
    "__class__",
    "memoryview",
    "bytearray",
]
_SAFE_ATTRS = [
    "state",
    "utils",
    "get_secret",
    "append",
    "items",
    "keys",
    "get",
    "x",
    "sip_headers",
    "variants",
    "set_variant",
    "call_handoff",
    "info",
    "error",
    "loads",
    "dumps",
    "sleep",
    "upper",
    "join",
    "split",
    "pop",
    "sqrt",
    "variant",
    "env",
]
_HOSTILE_ATTRS = [
    "__class__",
    "__subclasses__",
    "__globals__",
    "__dict__",
    "format",
    "mro",
    "f_back",
    "gi_frame",
    "__code__",
    "co_code",
    "__reduce_ex__",
    "__init__",
    "__getattribute__",
    "_private",
    "__builtins__",
    "tb_frame",
    "cr_frame",
    "__self__",
    "__module__",
    "format_map",
]
_SAFE_MODULES = ["json", "time", "math", "re", "datetime", "random", "collections", "itertools", "string"]
_HOSTILE_MODULES = [
    "os",
    "sys",
    "subprocess",
    "ctypes",
    "socket",
    "builtins",
    "importlib",
    "sandbox",
    "worker",
    "gc",
    "inspect",
    "polyai.voice",
    "json.decoder",
    "_thread",
    "signal",
]
_ATTRS = _SAFE_ATTRS + _HOSTILE_ATTRS


def _pick(safe: list[str], hostile: list[str]) -> st.SearchStrategy[str]:
    """Mostly safe names: one hostile name anywhere gets a whole module refused at compile time,
    and the modules that compile are the ones that reach the runtime layers."""
    return st.integers(0, 29).flatmap(lambda i: st.sampled_from(safe if i < 29 else hostile))


_NAME = _pick(_SAFE_NAMES, _HOSTILE_NAMES)
_ATTR = _pick(_SAFE_ATTRS, _HOSTILE_ATTRS)
_MODULE = _pick(_SAFE_MODULES, _HOSTILE_MODULES)
_BINOPS = [
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.FloorDiv,
    ast.Mod,
    ast.Pow,
    ast.LShift,
    ast.BitOr,
    ast.BitAnd,
    ast.MatMult,
]
_CMPOPS = [ast.Eq, ast.NotEq, ast.Lt, ast.Gt, ast.Is, ast.IsNot, ast.In, ast.NotIn]

_CONSTANTS = st.one_of(
    st.integers(-(10**6), 10**6),
    st.text(max_size=12),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.binary(max_size=6),
    st.sampled_from([10**100, ..., "conv", "__class__", "{0.__class__}"]),
)


def _load_name() -> st.SearchStrategy[ast.expr]:
    return st.builds(ast.Name, id=_NAME, ctx=st.just(ast.Load()))


def _expressions() -> st.SearchStrategy[ast.expr]:
    leaves = st.one_of(st.builds(ast.Constant, value=_CONSTANTS), _load_name())

    def extend(kids: st.SearchStrategy[ast.expr]) -> st.SearchStrategy[ast.expr]:
        small = st.lists(kids, max_size=3)
        return st.one_of(
            st.builds(ast.BinOp, left=kids, op=st.sampled_from(_BINOPS).map(lambda c: c()), right=kids),
            st.builds(ast.UnaryOp, op=st.sampled_from([ast.Not(), ast.USub(), ast.Invert()]), operand=kids),
            st.builds(
                ast.BoolOp, op=st.sampled_from([ast.And(), ast.Or()]), values=st.lists(kids, min_size=2, max_size=3)
            ),
            st.builds(
                lambda left, op, right: ast.Compare(left=left, ops=[op()], comparators=[right]),
                kids,
                st.sampled_from(_CMPOPS),
                kids,
            ),
            st.builds(
                lambda f, args, kw: ast.Call(func=f, args=args, keywords=kw),
                kids,
                small,
                st.lists(
                    st.builds(ast.keyword, arg=st.sampled_from(_SAFE_ATTRS[:12]), value=kids),
                    max_size=2,
                    unique_by=lambda k: k.arg,
                ),
            ),
            st.builds(ast.Attribute, value=kids, attr=_ATTR, ctx=st.just(ast.Load())),
            st.builds(ast.Subscript, value=kids, slice=kids, ctx=st.just(ast.Load())),
            st.builds(ast.List, elts=small, ctx=st.just(ast.Load())),
            st.builds(ast.Tuple, elts=small, ctx=st.just(ast.Load())),
            st.builds(
                lambda pairs: ast.Dict(keys=[k for k, _ in pairs], values=[v for _, v in pairs]),
                st.lists(st.tuples(kids, kids), max_size=3),
            ),
            st.builds(ast.IfExp, test=kids, body=kids, orelse=kids),
            st.builds(lambda body: ast.Lambda(args=_arguments([]), body=body), kids),
            st.builds(
                lambda value: ast.JoinedStr(values=[ast.Constant("f"), ast.FormattedValue(value, -1, None)]), kids
            ),
            st.builds(
                lambda elt, it: ast.ListComp(
                    elt=elt,
                    generators=[ast.comprehension(target=ast.Name("i", ast.Store()), iter=it, ifs=[], is_async=0)],
                ),
                kids,
                kids,
            ),
            st.builds(
                lambda elt, it: ast.GeneratorExp(
                    elt=elt,
                    generators=[ast.comprehension(target=ast.Name("i", ast.Store()), iter=it, ifs=[], is_async=0)],
                ),
                kids,
                kids,
            ),
            st.builds(
                lambda elts, value: ast.List(elts=[*elts, ast.Starred(value=value, ctx=ast.Load())], ctx=ast.Load()),
                small,
                kids,
            ),
            st.builds(ast.NamedExpr, target=st.just(ast.Name("y", ast.Store())), value=kids),
        )

    return st.recursive(leaves, extend, max_leaves=10)


EXPRESSIONS = st.deferred(_expressions)  # deferred: keeps the strategy's repr small


def _arguments(names: list[str]) -> ast.arguments:
    return ast.arguments(
        posonlyargs=[],
        args=[ast.arg(n) for n in names],
        vararg=None,
        kwonlyargs=[],
        kw_defaults=[],
        kwarg=None,
        defaults=[],
    )


def _targets() -> st.SearchStrategy[ast.expr]:
    return st.one_of(
        st.builds(ast.Name, id=_NAME, ctx=st.just(ast.Store())),
        st.builds(
            ast.Attribute,
            value=st.one_of(_load_name(), st.just(ast.Attribute(ast.Name("conv", ast.Load()), "state", ast.Load()))),
            attr=_ATTR,
            ctx=st.just(ast.Store()),
        ),
        st.builds(ast.Subscript, value=_load_name(), slice=EXPRESSIONS, ctx=st.just(ast.Store())),
    )


def _statements() -> st.SearchStrategy[list[ast.stmt]]:
    common = st.one_of(
        st.builds(lambda t, v: ast.Assign(targets=[t], value=v), _targets(), EXPRESSIONS),
        st.builds(
            ast.AugAssign,
            target=st.builds(ast.Name, id=_NAME, ctx=st.just(ast.Store())),
            op=st.sampled_from(_BINOPS).map(lambda c: c()),
            value=EXPRESSIONS,
        ),
        st.builds(ast.Expr, value=EXPRESSIONS),
        st.builds(ast.Return, value=st.one_of(st.none(), EXPRESSIONS)),
        st.builds(ast.Assert, test=EXPRESSIONS, msg=st.one_of(st.none(), EXPRESSIONS)),
        st.builds(lambda m: ast.Import(names=[ast.alias(m)]), _MODULE),
    )
    rare = st.one_of(
        st.builds(ast.AugAssign, target=_targets(), op=st.sampled_from(_BINOPS).map(lambda c: c()), value=EXPRESSIONS),
        st.builds(ast.Raise, exc=st.one_of(st.none(), EXPRESSIONS), cause=st.none()),
        st.builds(lambda n: ast.Delete(targets=[ast.Name(n, ast.Del())]), _NAME),
        st.builds(
            lambda m, n: ast.ImportFrom(module=m, names=[ast.alias(n)], level=0),
            _MODULE,
            st.one_of(_ATTR, st.sampled_from(["*", "loads", "sleep", "system"])),
        ),
        st.builds(lambda n: ast.Global(names=[n]), _NAME),
        st.just(ast.Pass()),
        st.just(ast.Break()),
        st.just(ast.Continue()),
    )
    simple = mostly(common, rare)

    def extend(blocks: st.SearchStrategy[list[ast.stmt]]) -> st.SearchStrategy[list[ast.stmt]]:
        body = blocks  # lists of at least one statement
        compound = st.one_of(
            st.builds(lambda t, b, o: ast.If(test=t, body=b, orelse=o), EXPRESSIONS, body, blocks),
            st.builds(
                lambda it, b: ast.For(target=ast.Name("i", ast.Store()), iter=it, body=b, orelse=[]), EXPRESSIONS, body
            ),
            st.builds(lambda t, b: ast.While(test=t, body=b, orelse=[]), EXPRESSIONS, body),
            st.builds(
                lambda b, h, f: ast.Try(
                    body=b, handlers=[ast.ExceptHandler(type=None, name=None, body=h)], orelse=[], finalbody=f
                ),
                body,
                body,
                blocks,
            ),
            st.builds(
                lambda e, b: ast.With(items=[ast.withitem(context_expr=e, optional_vars=None)], body=b),
                EXPRESSIONS,
                body,
            ),
            st.builds(
                lambda n, b: ast.FunctionDef(
                    name=n, args=_arguments(["conv"]), body=b, decorator_list=[], returns=None
                ),
                _pick(["inner", "f"], ["_hidden", "__del__"]),
                body,
            ),
            st.builds(
                lambda n, b: ast.ClassDef(name=n, bases=[], keywords=[], body=b, decorator_list=[]),
                st.sampled_from(["K", "Exception"]),
                body,
            ),
        )
        return st.lists(st.one_of(simple, compound), min_size=1, max_size=4)

    return st.recursive(st.lists(simple, min_size=1, max_size=3), extend, max_leaves=8)


STATEMENTS = st.deferred(_statements)


@st.composite
def tool_modules(draw) -> str:
    """A random module: imports, then one to three tool functions of random statements, unparsed."""
    body: list[ast.stmt] = []
    for module in draw(st.lists(_MODULE, max_size=2)):
        body.append(ast.Import(names=[ast.alias(module)]))
    names = draw(
        st.lists(
            _pick(["start_function", "tool", "other"], ["__init__", "_private"]), min_size=1, max_size=3, unique=True
        )
    )
    for name in names:
        params = draw(mostly(st.sampled_from([["conv"], ["conv", "x"]]), st.sampled_from([[], ["conv", "conv"]])))
        body.append(
            ast.FunctionDef(name=name, args=_arguments(params), body=draw(STATEMENTS), decorator_list=[], returns=None)
        )
    body.extend(draw(st.lists(STATEMENTS, max_size=1).map(lambda blocks: [s for b in blocks for s in b])))
    module = ast.fix_missing_locations(ast.Module(body=body, type_ignores=[]))
    try:
        return ast.unparse(module)
    except ValueError:  # e.g. a backslash in an f-string expression, which 3.11 cannot write
        assume(False)
        raise
