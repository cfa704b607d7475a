"""The hostile-tool corpus: one file per attack under tests/escapes/, one verdict each.

Each case file starts with header comments:

    # escape: what the attack tries, in one line
    # layer: the layer expected to stop it (compile, guard, seccomp, netns, mountns,
    #        rlimit, deadline, process, normalize, ...)
    # expect: STATUS [TEXT]
    # then: STATUS [TEXT]            (optional, two-phase cases)
    # tenants: A B                   (optional, two-phase cases; default: the same tenant)

and defines ``tool(conv)`` (and for two-phase cases ``phase2(conv)``, run after ``tool``).
STATUS is a result status (``compile_error``, ``runtime_error``, ``timeout``, ...) or
``contained``, which means status ``ok`` and a return value of exactly ``"contained"``:
the tool ran, tried, observed that it failed, and says so. TEXT, when given, must
appear in the error message (or the returned content). Every case runs in the real
confined pool; a case never skips.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.compile.compiler import compile_bundle
from sandbox.errors import CompileFailure
from sandbox.result import Status
from tests.conftest import run_source

CORPUS = Path(__file__).parent / "escapes"


def parse_header(path: Path) -> dict[str, str]:
    header: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            break
        key, _, value = line[1:].partition(":")
        header[key.strip()] = value.strip()
    for required in ("escape", "layer", "expect"):
        assert required in header, f"{path.name}: missing '# {required}:' header"
    return header


def check(result, expectation: str, case: str) -> None:
    status, _, text = expectation.partition(" ")
    message = result.error.message if result.error else ""
    if status == "contained":
        assert result.status is Status.OK, f"{case}: expected contained, got {result.status}: {message}"
        assert result.action.get("content") == "contained", f"{case}: tool reported {result.action}"
        return
    assert result.status is Status(status), f"{case}: expected {status}, got {result.status.value}: {message}"
    if text:
        haystack = message + (result.error.traceback or "" if result.error else "")
        assert text in haystack, f"{case}: {text!r} not in {haystack!r}"


CASES = sorted(CORPUS.glob("*.py"))


def test_corpus_is_not_empty():
    assert len(CASES) >= 40


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_escape(pool, path):
    header = parse_header(path)
    source = path.read_text()
    status, _, text = header["expect"].partition(" ")
    if status == "compile_error":
        with pytest.raises(CompileFailure) as info:
            compile_bundle({"tool.py": source})
        if text:
            assert text in str(info.value), f"{path.name}: {text!r} not in {info.value}"
        return
    tenants = header.get("tenants", "A A").split()
    first = run_source(pool, source, "tool", tenant=tenants[0], deadline_ms=2000)
    check(first, header["expect"], path.name)
    if "then" in header:
        second = run_source(pool, source, "phase2", tenant=tenants[1], deadline_ms=2000)
        check(second, header["then"], path.name + " phase 2")
