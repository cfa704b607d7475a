"""Starting a sandbox pool in a process a person may stop with Ctrl-C: ``start_pool``.

A terminal's Ctrl-C sends SIGINT to every process of the foreground process group, the
pool's template included; the template would die of a ``KeyboardInterrupt`` traceback of
its own while this process, its supervisor, is still closing the pool in order. So the
pool is started with SIGINT ignored, a disposition the template inherits across exec
(Python keeps an inherited SIG_IGN for SIGINT instead of installing its handler), as do
the children it forks. Ctrl-C then reaches only the supervisor, which closes the pool:
every child killed, the template stopped. If the supervisor dies instead, PDEATHSIG
still ends the template (``sandbox/template/forkserver.py``).

Used by ``toolpool run``, ``toolpool serve`` and ``toolpool.testing``. Trusts the pool.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sandbox.supervisor.pool import Pool


@contextlib.contextmanager
def sigint_ignored() -> Iterator[None]:
    """SIGINT ignored in this process while the block runs (only the main thread may
    change signal dispositions; elsewhere this does nothing)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def start_pool(pool: Pool) -> Pool:
    """``pool.start()`` with its template out of the terminal's Ctrl-C; returns ``pool``."""
    with sigint_ignored():
        pool.start()
    return pool
