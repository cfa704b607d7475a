"""Memory per ready child: USS and PSS (psutil memory_full_info, i.e. /proc/PID/smaps).

USS is what the kernel would free if that child alone exited: its private pages, mostly
copy-on-write copies of the template's pages it has touched. PSS adds its fair share of
pages it shares with the template and its siblings.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import psutil

from bench.drivers import Driver

MB = 1024 * 1024


def measure(driver: Driver, settle_s: float = 0.5) -> dict[str, Any] | None:
    time.sleep(settle_s)  # let the pool top up its ready children
    pids = driver.ready_child_pids()
    if pids is None:
        return None
    rows = []
    for pid in pids:
        try:
            info = psutil.Process(pid).memory_full_info()
        except psutil.Error:
            continue
        rows.append({"pid": pid, "uss": info.uss, "pss": info.pss, "rss": info.rss})
    out: dict[str, Any] = {"driver": driver.name, "ready_children": len(rows), "children": rows}
    template = driver.template_pid()
    if template is not None:
        try:
            info = psutil.Process(template).memory_full_info()
            out["template_mb"] = {k: round(getattr(info, k) / MB, 3) for k in ("uss", "pss", "rss")}
        except psutil.Error:
            pass
    for key in ("uss", "pss", "rss"):
        values = [r[key] for r in rows]
        out[f"{key}_mb"] = (
            {"median": round(statistics.median(values) / MB, 3), "max": round(max(values) / MB, 3)} if values else None
        )
    return out
