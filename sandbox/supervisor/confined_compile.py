"""The supervisor's side of the confined compile: tenant source is parsed only in a child.

Runs in the trusted server (or CLI) process and never parses tenant source: it checks
names and sizes (``sandbox/bundles.py``), hands the files to a confined compile worker
(``sandbox/compile/worker.py``, a fresh child of the pool's template) and reads the
answer as untrusted input. It trusts its ``Pool``; it trusts nothing the worker says:

* the answer is read under a cap (``compile_output_bytes`` plus a small header), and a
  worker that goes past any limit is stopped there;
* the header is parsed under its own cap and checked field by field: only the files that
  were sent, function names that are identifiers, lines that are positive ints, sizes
  that add up to the bytes that came, problems with short texts;
* each file's code stays opaque bytes: stored and handed to the children that run it,
  never unmarshaled or run here. Content addresses are computed here, from the sources.

A compile past a limit is a ``CompileErrors`` naming the file and the limit
("t.py: compiling needed more than 256 MiB"), never an internal error and never the
server's harm: the worker's memory, CPU and wall time are its own.
"""

from __future__ import annotations

import json
import marshal
import signal
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from sandbox import bundles, protocol
from sandbox.bundles import HEADER_BYTES, Bundle, CompiledTool, CompileErrors, CompileProblem
from sandbox.errors import InvalidInput, PoolUnavailable
from sandbox.policy import DEFAULT_POLICY, Limits, Policy
from sandbox.supervisor.pool import Pool, WorkOutcome

MAX_HEADER_BYTES = 1024 * 1024
"""The JSON header of an answer: file metadata and problems, never code."""

MAX_FUNCTIONS_PER_FILE = 10_000
MAX_NAME_CHARS = 200
MAX_MESSAGE_CHARS = 2_000
MAX_PROBLEMS = 1_000


class _Progress:
    """Which file the worker said it started; a stopped compile names it. A worker may
    name each file it was sent once: any other note is a protocol violation."""

    def __init__(self, files: Mapping[str, str]):
        self._files = files
        self._named: set[str] = set()
        self.current: str | None = None

    def note(self, body: bytes) -> bool:
        try:
            note = json.loads(body) if len(body) <= 4096 else None
        except (ValueError, RecursionError):
            return False
        filename = note.get("file") if type(note) is dict and note.get("op") == "compiling" else None
        if type(filename) is not str or filename not in self._files or filename in self._named:
            return False
        self._named.add(filename)
        self.current = filename
        return True


def _stopped(outcome: WorkOutcome, limits: Limits, filename: str | None) -> CompileErrors:
    """The compile error for a worker that did not answer: which limit it hit."""
    death = outcome.death
    sig = death.signal if death is not None else None
    if outcome.kind == "deadline" or sig == signal.SIGALRM:
        what = f"compiling took more than {limits.compile_wall_ms / 1000:g} s"
    elif outcome.kind == "overrun":
        what = bundles.output_too_large(limits.compile_output_bytes)
    elif sig in (signal.SIGPROF, signal.SIGXCPU, signal.SIGKILL):  # SIGKILL: RLIMIT_CPU's hard limit
        what = f"compiling needed more than {limits.compile_cpu_seconds} s of CPU"
    elif death is not None and death.exit_code == protocol.EXIT_MEMORY:
        what = f"compiling needed more than {bundles.size_text(limits.compile_memory_bytes)}"
    else:
        what = "the compile worker stopped without an answer" + (f" (signal {sig})" if sig else "")
    return bundles.fail(filename, None, what)


def _bad_answer(why: str) -> CompileErrors:
    return bundles.fail(None, None, f"the compile worker's answer could not be used ({why})")


def _text(value: Any, cap: int) -> str:
    if type(value) is not str:
        raise ValueError("not a string")
    return value if len(value) <= cap else value[:cap] + "..."


def _problems(header: dict[str, Any], files: Mapping[str, str]) -> CompileErrors:
    raw = header.get("problems")
    if type(raw) is not list or not raw or len(raw) > MAX_PROBLEMS:
        raise ValueError("problems")
    problems = []
    for item in raw:
        if type(item) is not dict:
            raise ValueError("a problem")
        file, line = item.get("file"), item.get("line")
        if file is not None and (type(file) is not str or file not in files):
            raise ValueError("a problem's file")
        if line is not None and (type(line) is not int or line < 1):
            raise ValueError("a problem's line")
        problems.append(CompileProblem(file, line, _text(item.get("message"), MAX_MESSAGE_CHARS)))
    omitted = header.get("omitted", 0)
    if type(omitted) is not int or omitted < 0:
        raise ValueError("omitted")
    return CompileErrors(bundles.sorted_problems(problems), omitted=omitted)


def _tools(
    header: dict[str, Any], body: memoryview, files: Mapping[str, str], fingerprint: str, output_cap: int
) -> tuple[dict[str, CompiledTool], dict[str, tuple[int, ...]]]:
    raw = header.get("files")
    if type(raw) is not list or len(raw) != len(files):
        raise ValueError("files")
    tools: dict[str, CompiledTool] = {}
    lines: dict[str, tuple[int, ...]] = {}
    offset = 0
    for item in raw:
        if type(item) is not dict:
            raise ValueError("a file")
        name, functions, lines_of, size = (
            item.get("filename"),
            item.get("functions"),
            item.get("lines"),
            item.get("size"),
        )
        if type(name) is not str or name not in files or name in tools:
            raise ValueError("a file's name")
        if (
            type(functions) is not list
            or len(functions) > MAX_FUNCTIONS_PER_FILE
            or len(set(functions)) != len(functions)
        ):
            raise ValueError("a file's functions")
        if not all(type(f) is str and f.isidentifier() and len(f) <= MAX_NAME_CHARS for f in functions):
            raise ValueError("a function name")
        if (
            type(lines_of) is not list
            or len(lines_of) != len(functions)
            or not all(type(n) is int and n >= 1 for n in lines_of)
        ):
            raise ValueError("a file's lines")
        if type(size) is not int or size < 1 or offset + size > len(body):
            raise ValueError("a file's size")
        if offset + size > output_cap:
            raise CompileErrors([CompileProblem(name, None, bundles.output_too_large(output_cap, offset + size))])
        code = bytes(body[offset : offset + size])
        offset += size
        tools[name] = CompiledTool(
            filename=name,
            source=files[name],
            code=code,
            sha256=bundles.tool_address(name, fingerprint, files[name]),
            functions=tuple(functions),
        )
        lines[name] = tuple(lines_of)
    if offset != len(body):
        raise ValueError("trailing bytes")
    return tools, lines


def read_answer(payload: bytes, files: Mapping[str, str], fingerprint: str, output_cap: int) -> Bundle:
    """The bundle a worker's answer describes, or ``CompileErrors``. The answer is hostile:
    every field is checked and anything malformed is a compile error saying so."""
    if len(payload) < HEADER_BYTES:
        raise _bad_answer("too short")
    size = int.from_bytes(payload[:HEADER_BYTES], "big")
    if size > MAX_HEADER_BYTES or HEADER_BYTES + size > len(payload):
        raise _bad_answer("header size")
    try:
        header = json.loads(payload[HEADER_BYTES : HEADER_BYTES + size])
        if type(header) is not dict or type(header.get("ok")) is not bool:
            raise ValueError("header")
        if not header["ok"]:
            raise _problems(header, files)
        tools, lines = _tools(header, memoryview(payload)[HEADER_BYTES + size :], files, fingerprint, output_cap)
    except (ValueError, RecursionError, UnicodeDecodeError) as exc:
        raise _bad_answer(str(exc)[:100]) from None
    problems: list[CompileProblem] = []
    bundle = bundles.assemble(tools, lines, fingerprint, problems)
    if bundle is None:
        raise CompileErrors(bundles.sorted_problems(problems))
    return bundle


class ConfinedCompiler:
    """Compiles bundles in confined workers from ``pool``. Thread-safe."""

    def __init__(self, pool: Pool):
        self._pool = pool

    def compile(
        self, files: Mapping[str, str], policy: Policy = DEFAULT_POLICY, *, tenant: str | None = None
    ) -> Bundle:
        """Compile ``files`` under ``policy`` in a confined worker, in ``tenant``'s CPU group
        when one is named (``Pool.work``).

        Raises ``CompileErrors`` for every problem of the bundle, a limit the compile went
        past included (naming the file), ``InvalidInput`` for a policy on the floor, and
        ``PoolUnavailable`` when no confined child can be had.
        """
        if not isinstance(policy, Policy):
            raise InvalidInput("policy", f"expected a sandbox.policy.Policy, got {type(policy).__name__}")
        limits = policy.limits
        checked = bundles.checked_files(files, limits.source_bytes)
        request = {"op": "compile", "files": checked, "policy": policy.frame_spec, "limits": asdict(limits)}
        frame = marshal.dumps((b"", request))
        progress = _Progress(checked)
        outcome = self._pool.work(
            frame,
            limits.compile_wall_ms / 1000.0,
            limits.compile_output_bytes + MAX_HEADER_BYTES + HEADER_BYTES,
            on_note=progress.note,
            tenant=tenant,
        )
        if outcome.kind != "reply" or outcome.payload is None:
            raise _stopped(outcome, limits, progress.current)
        return read_answer(outcome.payload, checked, policy.fingerprint(), limits.compile_output_bytes)


__all__ = ["ConfinedCompiler", "PoolUnavailable", "read_answer"]
