"""A child lowering its own rlimits, never above the ceiling it was confined with.

Runs in the confined child (a call in ``sandbox/child/entry.py``, a compile in
``sandbox/compile/worker.py``). Lowering a hard limit is irreversible, which is the point.
"""

from __future__ import annotations

import resource


def lower_rlimit(which: int, soft: int, hard: int) -> None:
    """Lower a limit, never above the ceiling the child was confined with."""
    _, ceiling = resource.getrlimit(which)
    if ceiling != resource.RLIM_INFINITY:
        hard = min(hard, ceiling)
        soft = min(soft, hard)
    resource.setrlimit(which, (soft, hard))
