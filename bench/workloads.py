"""What the bench asks for: the tools, the conversations, and the mixes of calls.

A workload is a name and a function ``next_call(rng) -> Call``. A ``Call`` is plain data
that every driver can translate into its own request (an in-process ``run_request``, a
``Pool.execute``, a gRPC ``Execute``, a spawned process, or an echo of the same size).

The tools: ``start_function.py`` is the seed 002 example, read verbatim from
``tests/seeds/002_start_function.py``; ``bench_tools.py`` holds the trivial,
slow and hostile tools.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

TOOLS_DIR = Path(__file__).resolve().parent / "tools"
SEED_START = Path(__file__).resolve().parent.parent / "tests" / "seeds" / "002_start_function.py"

# The functions whose result a driver must be able to produce without a process around
# it: the floor (no isolation) can run only these.
SAFE_FUNCTIONS = frozenset({"trivial", "touch_state", "start_function"})

TENANT_A = "bench-a"  # the noisy neighbour
TENANT_B = "bench-b"  # the measured tenant
# The standard workloads spread their calls over these, as a service's traffic comes from
# many tenants: the per-tenant admission limit (by default half the slots) then does not
# cap the whole service's throughput. The noisy-neighbour runs use A and B only.
SPREAD = ("bench-t0", "bench-t1", "bench-t2", "bench-t3")
TENANTS = (TENANT_A, TENANT_B, *SPREAD)


def tool_files() -> dict[str, str]:
    return {"bench_tools.py": (TOOLS_DIR / "bench_tools.py").read_text(), "start_function.py": SEED_START.read_text()}


@dataclass(frozen=True)
class Call:
    function: str
    tenant: str = TENANT_B
    args: Any = field(default_factory=dict)
    conversation: dict = field(default_factory=dict)
    deadline_ms: int | None = None
    kind: str = ""  # label for reports, e.g. "spin" in a mix

    @property
    def label(self) -> str:
        return self.kind or self.function

    @property
    def budget_ms(self) -> int:
        """The deadline the caller gave, or the tool kind's default (see sandbox.policy.Limits)."""
        if self.deadline_ms:
            return self.deadline_ms
        return 1_000 if self.function == "start_function" else 5_000


def greeting_conversation(state_bytes: int = 0) -> dict:
    """The conv.json of a London call; ``state_bytes`` pads the state to about that size."""
    state: dict[str, Any] = {"from_": "+15551230000", "to": "+441234567890", "call_sid": "CA1"}
    if state_bytes:
        # 100-byte values under distinct keys: a realistic shape (many small variables).
        for i in range(max(1, state_bytes // 120)):
            state[f"var_{i:05d}"] = "v" * 100
    return {
        "state": state,
        "env": "live",
        "channel_type": "sip.polyai",
        "caller_number": "+15551230000",
        "callee_number": "+441234567890",
        "sip_headers": {"X-Language": "en"},
        "integration_attributes": {"shared_id": "SH-42"},
        "variants": {"london": {"site_name": "London Bridge"}},
        "variant": "london",
    }


_GREETING = greeting_conversation()
_STATE_10K = greeting_conversation(10 * 1024)
_STATE_100K = greeting_conversation(100 * 1024)

TRIVIAL = Call("trivial", kind="trivial")
START = Call("start_function", conversation=_GREETING, kind="start_function")
SPIN_100MS = Call("spin", deadline_ms=100, kind="spin_100ms")
HOG = Call("hog", deadline_ms=3_000, kind="hog")


def _spread(call: Call) -> dict[str, Call]:
    return {t: replace(call, tenant=t) for t in SPREAD}


def _constant(call: Call) -> Callable[[random.Random], Call]:
    """The same call, from one of the SPREAD tenants at random."""
    calls = _spread(call)
    return lambda rng: calls[rng.choice(SPREAD)]


def _single(call: Call) -> Callable[[random.Random], Call]:
    """The same call from tenant B only (noisy neighbour, overshoot)."""
    return lambda _rng: call


_MIX = {label: _spread(c) for label, c in (("spin", SPIN_100MS), ("hog", HOG), ("start", START))}


def _mix(rng: random.Random) -> Call:
    """The realistic mix: 5% infinite loops with a 100 ms deadline, 1% memory bombs."""
    x = rng.random()
    kind = "spin" if x < 0.05 else ("hog" if x < 0.06 else "start")
    return _MIX[kind][rng.choice(SPREAD)]


def _noisy(rng: random.Random) -> Call:
    """Tenant A's flood: slow and hostile tools."""
    x = rng.random()
    if x < 0.4:
        return Call("spin", tenant=TENANT_A, deadline_ms=200, kind="a_spin_200ms")
    if x < 0.6:
        return Call("hog", tenant=TENANT_A, deadline_ms=3_000, kind="a_hog")
    return Call("slow", tenant=TENANT_A, args={"ms": 300}, deadline_ms=2_000, kind="a_slow_300ms")


SPIN_A = Call("spin", tenant=TENANT_A, deadline_ms=500, kind="a_spin_500ms")


WORKLOADS: dict[str, Callable[[random.Random], Call]] = {
    "trivial": _constant(TRIVIAL),
    "start_function": _constant(START),
    "state_10k": _constant(Call("start_function", conversation=_STATE_10K, kind="start_function_10k")),
    "state_100k": _constant(Call("start_function", conversation=_STATE_100K, kind="start_function_100k")),
    "mix": _mix,
    "spin_100ms": _single(SPIN_100MS),
    "noisy_a": _noisy,
    "spin_a": _single(SPIN_A),  # tenant A's slots full of tools that spin to their deadline (bench noisy)
    "start_function_b": _single(START),  # tenant B alone: the noisy-neighbour measurement
}

# Workloads made only of calls that end by themselves: the floor can run these.
SAFE_WORKLOADS = frozenset({"trivial", "start_function", "state_10k", "state_100k"})


def workload(name: str) -> Callable[[random.Random], Call]:
    try:
        return WORKLOADS[name]
    except KeyError:
        raise SystemExit(f"unknown workload {name!r}; choose from {', '.join(WORKLOADS)}") from None


def sample_calls(name: str) -> list[Call]:
    """The distinct calls a workload can produce (to size echo replies, warm caches)."""
    rng = random.Random(0)
    seen: dict[str, Call] = {}
    for _ in range(2000):
        call = WORKLOADS[name](rng)
        seen.setdefault(call.label, call)
    return list(seen.values())
