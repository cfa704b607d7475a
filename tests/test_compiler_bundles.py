"""sandbox.compile.compiler's bundles: every file compiled, the content-addressed version id,
every problem of every file reported, function names unique across the bundle, and the
bundle's shape refused when unsafe. Single files are in tests/test_compiler.py.
"""

from __future__ import annotations

import pytest

from sandbox.compile.compiler import Bundle, CompileErrors, CompileProblem, compile_bundle
from sandbox.errors import CompileFailure
from sandbox.policy import DEFAULT_POLICY
from sandbox.result import Status

# ---------------------------------------------------------------------------------------
# bundles
# ---------------------------------------------------------------------------------------

BOOKING = "import json\n\ndef book(conv):\n    return 'booked'\n\ndef cancel(conv):\n    return 'cancelled'\n"
START = "def start_function(conv):\n    return str()\n"


def test_bundle_compiles_every_file():
    bundle = compile_bundle({"tools/booking.py": BOOKING, "start.py": START})
    assert isinstance(bundle, Bundle)
    assert list(bundle.files) == ["start.py", "tools/booking.py"]
    assert dict(bundle.functions) == {
        "book": "tools/booking.py",
        "cancel": "tools/booking.py",
        "start_function": "start.py",
    }
    assert bundle.files["start.py"].functions == ("start_function",)
    with pytest.raises(TypeError):
        bundle.files["x.py"] = None  # read-only mappings
    assert hash(bundle) == hash(bundle.version_id)


def test_bundle_version_id_is_a_content_address():
    one = compile_bundle({"a.py": BOOKING, "b.py": START})
    two = compile_bundle({"b.py": START, "a.py": BOOKING})
    assert one.version_id == two.version_id and len(one.version_id) == 64
    assert compile_bundle({"a.py": BOOKING, "b.py": START + "\n"}).version_id != one.version_id
    assert compile_bundle({"a.py": START, "b.py": BOOKING}).version_id != one.version_id
    other_policy = DEFAULT_POLICY.with_limits(source_bytes=10_000)
    assert compile_bundle({"a.py": BOOKING, "b.py": START}, other_policy).version_id != one.version_id


def test_bundle_reports_every_problem_of_every_file():
    files = {
        "tools/a.py": "import json\nimport os\n",
        "tools/b.py": "def f(conv):\n    x = 1\n    return eval('x')\n\ndef g(conv):\n    return conv.__globals__\n",
        "ok.py": START,
    }
    with pytest.raises(CompileErrors) as info:
        compile_bundle(files)
    error = info.value
    assert [(p.file, p.line) for p in error.errors] == [("tools/a.py", 2), ("tools/b.py", 3), ("tools/b.py", 6)]
    lines = error.message.splitlines()
    assert lines[0].startswith("tools/a.py line 2: import of 'os'")
    assert lines[1].startswith("tools/b.py line 3: 'eval' is not available to tools")
    assert isinstance(error, CompileFailure) and error.status is Status.COMPILE_ERROR
    info_dict = error.to_error_info().to_dict()
    assert info_dict["file"] == "tools/a.py" and info_dict["line"] == 2


def test_bundle_duplicate_function_names():
    files = {"tools/a.py": "def lookup(conv):\n    pass\n", "tools/b.py": "x = 1\n\ndef lookup(conv):\n    pass\n"}
    with pytest.raises(CompileErrors) as info:
        compile_bundle(files)
    (problem,) = info.value.errors
    assert problem == CompileProblem(
        "tools/b.py",
        3,
        "function 'lookup' is also defined in tools/a.py line 1; function names must be unique across the bundle",
    )


@pytest.mark.parametrize("name", ["/abs.py", "../up.py", "tools/../x.py", "x.txt", "", 3])
def test_bundle_refuses_unsafe_filenames(name):
    with pytest.raises(CompileErrors) as info:
        compile_bundle({name: START, "ok.py": START.replace("start_function", "other")})
    assert "filename" in info.value.message


@pytest.mark.parametrize("files", [{}, None, [("a.py", START)], "a.py"])
def test_bundle_must_be_a_nonempty_mapping(files):
    with pytest.raises(CompileErrors):
        compile_bundle(files)


def test_bundle_file_count_is_bounded():
    files = {f"f{i}.py": "" for i in range(300)}
    with pytest.raises(CompileErrors) as info:
        compile_bundle(files)
    assert "at most" in info.value.message
