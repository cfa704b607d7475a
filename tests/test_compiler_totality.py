"""sandbox.compile.compiler's totality, as properties: any input (any text, Python-like line
soup, inputs of the wrong type, any bundle) gives a CompiledTool or a CompileFailure,
nothing else, and a failure's lines point into the source. ``python_like`` is shared with
the fuzz tests (tests/fuzz/).
"""

from __future__ import annotations

import marshal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox.compile.compiler import CompiledTool, CompileErrors, compile_bundle, compile_tool
from sandbox.errors import CompileFailure

# ---------------------------------------------------------------------------------------
# totality: any input gives a CompiledTool or a CompileFailure, nothing else
# ---------------------------------------------------------------------------------------

_ATOMS = [
    "x",
    "conv",
    "_x",
    "__class__",
    "__import__",
    "exec",
    "eval",
    "open",
    "print",
    "printed",
    "1",
    "0x1F",
    "1e400",
    "'s'",
    '"\\x00"',
    "b'b'",
    "f'{x}'",
    "f'{x!r:>{y}}'",
    "None",
    "True",
    "...",
    "lambda: 1",
    "(yield)",
    "await x",
    "[i for i in x]",
    "{k: v for k, v in x}",
    "(i for i in x)",
    "x.format",
    "x.gi_frame",
    "x.mro()",
    "x[1:2]",
    "x[::-1]",
    "-x",
    "not x",
    "x if y else z",
    "x := 1",
    "*x",
    "**x",
    "type(x)",
    "json.dumps(x)",
    "datetime.sys",
]
_STATEMENTS = [
    "pass",
    "x = {e}",
    "x, y = {e}",
    "x: int = {e}",
    "del x",
    "return {e}",
    "yield {e}",
    "raise {e}",
    "assert {e}",
    "global x",
    "nonlocal x",
    "import os",
    "import json",
    "from datetime import sys",
    "from . import x",
    "from __future__ import annotations",
    "print({e})",
    "x += {e}",
    "x.a += 1",
    "x[0] += 1",
    "break",
    "continue",
    "{e}",
]
_BLOCKS = [
    "def f(conv):",
    "def f(_getattr_=None, /):",
    "async def f():",
    "class A(B, metaclass=M):",
    "class A:",
    "if {e}:",
    "while {e}:",
    "for i in {e}:",
    "with {e} as w:",
    "try:",
    "except* E:",
    "except Exception as e:",
    "finally:",
    "else:",
    "match {e}:",
    "case {e}:",
    "@{e}",
    "lambda x:",
]


@st.composite
def python_like(draw):
    lines = []
    indent = 0
    for _ in range(draw(st.integers(1, 12))):
        expression = draw(st.sampled_from(_ATOMS))
        if draw(st.booleans()):
            operator = draw(st.sampled_from([" + ", ".", "(", "[", " and ", ", ", " is ", ")", "]"]))
            expression += operator + draw(st.sampled_from(_ATOMS))
        kind = draw(st.sampled_from(["statement", "block", "dedent"]))
        if kind == "block":
            lines.append("    " * indent + draw(st.sampled_from(_BLOCKS)).format(e=expression))
            indent = min(indent + 1, 6)
        elif kind == "dedent":
            indent = max(0, indent - draw(st.integers(1, 3)))
            lines.append("    " * indent + draw(st.sampled_from(_STATEMENTS)).format(e=expression))
        else:
            lines.append("    " * indent + draw(st.sampled_from(_STATEMENTS)).format(e=expression))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    return newline.join(lines) + draw(st.sampled_from(["", newline]))


def _total(source, filename="tool.py"):
    try:
        result = compile_tool(source, filename)
    except CompileFailure as failure:
        assert failure.message
        if isinstance(failure, CompileErrors):
            for problem in failure.errors:
                assert problem.line is None or problem.line >= 1
        return failure
    assert isinstance(result, CompiledTool)
    marshal.loads(result.code)
    return result


_SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(st.text())
def test_any_text_compiles_or_fails_cleanly(source):
    _total(source)


@_SETTINGS
@given(python_like())
def test_python_like_snippets_compile_or_fail_cleanly(source):
    result = _total(source)
    if isinstance(result, CompileErrors):
        line_count = source.replace("\r\n", "\n").replace("\r", "\n").count("\n") + 1
        for problem in result.errors:
            assert problem.line is None or problem.line <= line_count + 1


@settings(max_examples=150, deadline=None)
@given(
    st.one_of(st.binary(), st.integers(), st.none(), st.lists(st.text())), st.one_of(st.text(max_size=20), st.binary())
)
def test_any_input_types_fail_cleanly(source, filename):
    _total(source, filename)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.text(max_size=12), st.text(max_size=200), max_size=4))
def test_any_bundle_compiles_or_fails_cleanly(files):
    try:
        bundle = compile_bundle(files)
    except CompileFailure:
        return
    assert set(bundle.files) == set(files)
