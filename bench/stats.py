"""Summaries of samples: percentiles by nearest rank, CDFs small enough for JSON."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

PERCENTILES = (("p50", 50.0), ("p90", 90.0), ("p99", 99.0), ("p999", 99.9))


def percentile(sorted_values: Sequence[float], pct: float) -> float | None:
    """Nearest-rank percentile of an already sorted sequence; None when it is empty."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(pct / 100.0 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def summarize(values: Iterable[float]) -> dict[str, float | int | None]:
    """n, mean, p50, p90, p99, p99.9 and max. p99.9 of fewer than 1000 samples is the max."""
    data = sorted(values)
    out: dict[str, float | int | None] = {"n": len(data)}
    out["mean"] = sum(data) / len(data) if data else None
    for name, pct in PERCENTILES:
        out[name] = percentile(data, pct)
    out["max"] = data[-1] if data else None
    return out


def cdf_points(values: Iterable[float], points: int = 200) -> list[list[float]]:
    """[[value, fraction <= value], ...] at up to ``points`` ranks, always with the max."""
    data = sorted(values)
    if not data:
        return []
    n = len(data)
    ranks = sorted({min(n - 1, int(i * n / points)) for i in range(points)} | {n - 1})
    return [[data[r], (r + 1) / n] for r in ranks]


def rounded(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)
