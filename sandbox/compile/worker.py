"""The compile worker: a confined child compiling one bundle for its supervisor.

Runs in a child of the template, confined like every child (no network, an empty root,
seccomp, an unprivileged uid), with the compile's own limits on top: its address space
(``compile_memory_bytes``), its CPU (``compile_cpu_seconds``, an ``ITIMER_PROF`` with the
``RLIMIT_CPU`` backstop above it) and its wall time (``compile_wall_ms``, its own
``ITIMER_REAL``; the supervisor kills it at the same deadline). It lowers its own
scheduling priority, so that on a busy host the calls of every tenant go first.

It is handed source to parse, and nothing it answers is trusted: the supervisor reads the
answer under caps (``sandbox/supervisor/confined_compile.py``), keeps the marshaled code as opaque
bytes and never unmarshals it. Before each file it tells the supervisor which file it
starts (a REQUEST frame), so a compile stopped at a limit names the file.

The answer is one frame: a 4-byte length, a JSON header, then each file's code bytes::

    {"ok": true, "files": [{"filename": "t.py", "functions": ["f"], "lines": [3], "size": 812}]}
    {"ok": false, "problems": [{"file": "t.py", "line": 2, "message": "..."}], "omitted": 0}
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import resource
import signal
from collections.abc import Callable
from typing import Any

from sandbox.bundles import HEADER_BYTES, CompileErrors
from sandbox.child.limits import lower_rlimit
from sandbox.compile.compiler import compile_files
from sandbox.policy import DEFAULT_POLICY, Limits, Policy

NICENESS = 10
"""How much a compile worker lowers its priority (CFS weight 110 against a call's 1024)."""


def _policy(spec: dict[str, Any], limits: Limits) -> Policy:
    if spec.get("fingerprint") == DEFAULT_POLICY.fingerprint() and "modules" not in spec:
        return dataclasses.replace(DEFAULT_POLICY, limits=limits)
    return Policy.from_child_spec(spec, limits)


def apply_limits(limits: Limits) -> None:
    """The compile's limits, below the ceiling the child was confined with (never above).

    Memory is ``RLIMIT_AS``; CPU the ``ITIMER_PROF`` budget with the ``RLIMIT_CPU``
    backstop a second above it (soft below hard, as for calls); wall time the worker's
    own ``ITIMER_REAL``. All three end the process by their default actions."""
    lower_rlimit(resource.RLIMIT_AS, limits.compile_memory_bytes, limits.compile_memory_bytes)
    used = resource.getrusage(resource.RUSAGE_SELF)
    backstop = math.ceil(used.ru_utime + used.ru_stime) + limits.compile_cpu_seconds + 1
    lower_rlimit(resource.RLIMIT_CPU, backstop, backstop + 1)
    signal.setitimer(signal.ITIMER_REAL, max(limits.compile_wall_ms, 1) / 1000.0)
    signal.setitimer(signal.ITIMER_PROF, limits.compile_cpu_seconds)
    lower_priority()


def _warm_source() -> str:
    """About 5 KB of ordinary tool code: a class, helpers, f-strings, comprehensions, dicts,
    try/except and a greeting, shaped like what tenants deploy."""
    parts = [
        "import datetime\nimport re\n\n\nclass Booking:\n"
        "    def __init__(self, name: str, party: int = 2):\n        self.name = name\n"
        "        self.party = party\n\n    def line(self):\n        return f'{self.name} for {self.party}'\n"
    ]
    for n in range(8):
        parts.append(f"""

def _clean_{n}(text, limit={n + 10}):
    text = re.sub(r"\\s+", " ", text or "").strip()
    words = [w.title() for w in text.split(" ") if w]
    return " ".join(words)[:limit]


def answer_{n}(conv, name="guest", party=2):
    try:
        booking = Booking(_clean_{n}(name), int(party))
    except (TypeError, ValueError) as exc:
        return {{"utterance": f"Sorry: {{exc}}"}}
    seen = {{k: v for k, v in conv.state.items() if k.startswith("b")}}
    conv.state.last = booking.line()
    day = datetime.date(2026, 1, {n + 1}).strftime("%A")
    return {{"utterance": f"Booked {{booking.line()}} on {{day}} ({{len(seen)}} before).", "listen": {{"asr": {{"timeout": 1}}}}}}
""")
    return "".join(parts)


WARM_SOURCE = _warm_source()


def lower_priority() -> None:
    """Compiles yield to calls: a compile worker runs at niceness ``NICENESS``."""
    try:
        os.setpriority(os.PRIO_PROCESS, 0, NICENESS)
    except OSError:
        pass  # a host that refuses it still compiles, at the calls' priority


def warm() -> None:
    """A small compile in a child kept for compiles, before it is ready: the copy-on-write
    page faults of the compiler's first use, and of growing the heap to a tool's size, are
    taken here, off the deploy's path (bench/hostile.py measures the difference). Under the
    child's ceiling limits, at the compile's priority; its result is dropped."""
    lower_priority()
    compile_files({"warm.py": WARM_SOURCE}, DEFAULT_POLICY)


def encode(header: dict[str, Any], blobs: list[bytes] | tuple[bytes, ...] = ()) -> bytes:
    data = json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode()
    return len(data).to_bytes(HEADER_BYTES, "big") + data + b"".join(blobs)


def compile_request(request: dict[str, Any], announce: Callable[[str], None]) -> bytes:
    """Compile the request's bundle and encode the answer. ``request`` comes from the
    supervisor: ``{"op": "compile", "files": {name: source}, "policy": spec, "limits": {...}}``."""
    limits = Limits(**request["limits"])
    apply_limits(limits)
    policy = _policy(request["policy"], limits)
    try:
        tools, lines = compile_files(request["files"], policy, on_file=announce)
    except CompileErrors as exc:
        problems = [{"file": p.file, "line": p.line, "message": p.message} for p in exc.errors]
        return encode({"ok": False, "problems": problems, "omitted": exc.omitted})
    files = [
        {"filename": name, "functions": list(tool.functions), "lines": list(lines[name]), "size": len(tool.code)}
        for name, tool in tools.items()
    ]
    return encode({"ok": True, "files": files}, [tool.code for tool in tools.values()])
