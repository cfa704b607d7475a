"""A compile worker's answer is untrusted (issue 16): the supervisor reads it under caps,
checks every field, and keeps the code as opaque bytes it never unmarshals.

A worker is a confined child that parsed hostile source; these answers are what a worker
whose runtime the source subverted could send. Each must become a ``CompileErrors``
saying the answer could not be used, never an exception of another kind, never a bundle
with a name or function the upload did not have.
"""

from __future__ import annotations

import json
import marshal

import pytest

from sandbox.bundles import HEADER_BYTES, CompileErrors
from sandbox.compile.worker import encode
from sandbox.supervisor import confined_compile
from sandbox.supervisor.confined_compile import MAX_HEADER_BYTES, read_answer

FILES = {"t.py": "def f(conv):\n    return 1\n", "u.py": "def g(conv):\n    return 2\n"}
CODE = b"\xe3opaque code bytes: never unmarshaled by the supervisor"
CAP = 4 * 1024 * 1024


def good_header(**changes):
    header = {
        "ok": True,
        "files": [
            {"filename": "t.py", "functions": ["f"], "lines": [1], "size": len(CODE)},
            {"filename": "u.py", "functions": ["g"], "lines": [1], "size": len(CODE)},
        ],
    }
    header.update(changes)
    return header


def read(payload: bytes):
    return read_answer(payload, FILES, "fp", CAP)


def test_a_good_answer_is_a_bundle_whose_code_stays_opaque(monkeypatch):
    monkeypatch.setattr(marshal, "loads", lambda *a: pytest.fail("the supervisor unmarshaled worker output"))
    bundle = read(encode(good_header(), [CODE, CODE]))
    assert sorted(bundle.functions) == ["f", "g"]
    assert bundle.files["t.py"].code == CODE and bundle.files["t.py"].source == FILES["t.py"]


def file_entry(**changes):
    entry = {"filename": "t.py", "functions": ["f"], "lines": [1], "size": len(CODE)}
    entry.update(changes)
    return entry


HOSTILE = {
    "empty": b"",
    "short": b"\x00\x00",
    "header_size_past_the_cap": (MAX_HEADER_BYTES + 1).to_bytes(HEADER_BYTES, "big") + b"{}",
    "header_size_past_the_payload": (1000).to_bytes(HEADER_BYTES, "big") + b"{}",
    "not_json": (3).to_bytes(HEADER_BYTES, "big") + b"{{{",
    "not_an_object": encode([1, 2]),  # type: ignore[arg-type]
    "ok_not_bool": encode({"ok": "yes"}),
    "deep_json": (20001).to_bytes(HEADER_BYTES, "big") + b"[" * 10000 + b"]" * 10000 + b"!",
    "unsent_file": encode(
        good_header(files=[file_entry(filename="../etc/passwd.py"), file_entry(filename="u.py")]), [CODE, CODE]
    ),
    "file_twice": encode(good_header(files=[file_entry(), file_entry()]), [CODE, CODE]),
    "file_missing": encode(good_header(files=[file_entry()]), [CODE]),
    "function_not_identifier": encode(
        good_header(files=[file_entry(functions=["f; import os"]), file_entry(filename="u.py", functions=["g"])]),
        [CODE, CODE],
    ),
    "function_not_str": encode(
        good_header(files=[file_entry(functions=[1]), file_entry(filename="u.py")]), [CODE, CODE]
    ),
    "functions_repeated": encode(
        good_header(files=[file_entry(functions=["f", "f"], lines=[1, 1]), file_entry(filename="u.py")]), [CODE, CODE]
    ),
    "lines_mismatch": encode(good_header(files=[file_entry(lines=[]), file_entry(filename="u.py")]), [CODE, CODE]),
    "line_zero": encode(good_header(files=[file_entry(lines=[0]), file_entry(filename="u.py")]), [CODE, CODE]),
    "size_past_the_payload": encode(
        good_header(files=[file_entry(size=10**9), file_entry(filename="u.py")]), [CODE, CODE]
    ),
    "size_negative": encode(good_header(files=[file_entry(size=-5), file_entry(filename="u.py")]), [CODE, CODE]),
    "trailing_bytes": encode(good_header(), [CODE, CODE, b"extra"]),
    "problem_for_unsent_file": encode({"ok": False, "problems": [{"file": "x.py", "line": 1, "message": "m"}]}),
    "problem_line_str": encode({"ok": False, "problems": [{"file": "t.py", "line": "1", "message": "m"}]}),
    "problem_message_not_str": encode({"ok": False, "problems": [{"file": "t.py", "line": 1, "message": {}}]}),
    "no_problems": encode({"ok": False, "problems": []}),
    "too_many_problems": encode({"ok": False, "problems": [{"file": "t.py", "line": 1, "message": "m"}] * 5000}),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_malformed_answer_is_a_compile_error_saying_so(name):
    with pytest.raises(CompileErrors) as refused:
        read(HOSTILE[name])
    assert "the compile worker's answer could not be used" in str(refused.value)


def test_a_duplicate_function_across_files_is_the_bundles_error_as_in_process():
    header = good_header(files=[file_entry(), file_entry(filename="u.py", functions=["f"])])
    with pytest.raises(CompileErrors) as refused:
        read(encode(header, [CODE, CODE]))
    assert "f" in str(refused.value) and "could not be used" not in str(refused.value)


def test_code_past_the_output_cap_is_refused_even_if_the_worker_let_it_through():
    big = b"x" * (CAP // 2 + 1)
    header = good_header(files=[file_entry(size=len(big)), file_entry(filename="u.py", size=len(big))])
    with pytest.raises(CompileErrors) as refused:
        read(encode(header, [big, big]))
    assert str(refused.value).startswith("u.py: the compiled bundle is larger than 4 MiB")


def test_problem_texts_are_capped_and_kept_to_their_files():
    long = "m" * 100_000
    answer = encode({"ok": False, "problems": [{"file": "t.py", "line": 2, "message": long}], "omitted": 3})
    with pytest.raises(CompileErrors) as refused:
        read(answer)
    problem = refused.value.errors[0]
    assert (problem.file, problem.line) == ("t.py", 2)
    assert len(problem.message) <= confined_compile.MAX_MESSAGE_CHARS + 3 and refused.value.omitted == 3


def test_the_header_cap_leaves_room_for_every_honest_answer():
    # The largest honest header: every file of a full bundle with the most functions.
    files = [
        {
            "filename": f"{'d' * 60}/{'n' * 60}{i}.py",
            "functions": [f"f{j:05}" for j in range(40)],
            "lines": list(range(1, 41)),
            "size": 1,
        }
        for i in range(256)
    ]
    assert len(json.dumps({"ok": True, "files": files})) < MAX_HEADER_BYTES
