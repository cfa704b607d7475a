"""Customer-submitted meter readings, with a sanity check against their history."""
from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable, List

import requests


class ReadingRejected(ValueError):
    def __init__(self, reason: str, reading: int):
        super().__init__(reason)
        self.reason = reason
        self.reading = reading


@dataclass
class Reading:
    meter_id: str
    value: int
    previous: int | None = None
    warnings: List[str] = field(default_factory=list)

    def __post_init__(self):
        self.meter_id = self.meter_id.upper().replace("-", "").replace(" ", "")
        if len(self.meter_id) != 8 or not self.meter_id[:2].isalpha():
            raise ReadingRejected("meter id should be two letters and six digits", self.value)
        if self.previous is not None and self.value < self.previous:
            raise ReadingRejected("lower than the last reading", self.value)

    @property
    def usage(self) -> int:
        return self.value - (self.previous or self.value)


def too_high(reading: Reading, history: List[int]) -> str | None:
    if len(history) < 3:
        return None
    mean, spread = statistics.mean(history), statistics.pstdev(history) or 1
    z = (reading.usage - mean) / spread
    return f"usage {reading.usage} kWh is {z:.1f} standard deviations above normal" if z > 3 else None


CHECKS: List[Callable[[Reading, List[int]], str | None]] = [too_high]


def submit_reading(conv: Conversation, meter_id: str, reading: str):
    digits = "".join(ch for ch in str(reading) if ch.isdigit())
    if not digits:
        return "Ask the caller to read the digits on the meter from left to right."
    history = list(conv.state.usage_history or [])
    try:
        current = Reading(meter_id, int(digits), previous=conv.state.last_reading)
    except ReadingRejected as rejected:
        log.warning(f"rejected {rejected.reading}: {rejected.reason}")
        return f"Read the number back and say it looks {rejected.reason}. Ask them to check it."
    for check in CHECKS:
        if (problem := check(current, history)) is not None:
            current.warnings.append(problem)
    cost = (Decimal(current.usage) * Decimal(conv.variant.rate_per_kwh)).quantize(Decimal("0.01"))
    resp = requests.post(f"{conv.variant.api_base}/meters/{current.meter_id}/readings", timeout=3,
                         json={"value": current.value, "flags": current.warnings},
                         headers={"Authorization": "Token " + conv.utils.get_secret("cascade_api_token")})
    resp.raise_for_status()
    history.append(current.usage)
    conv.state.usage_history = history[-12:]
    conv.state.last_reading = current.value
    log.info("{:>10} {:>8} {:>8} {:>9}".format(current.meter_id, current.value, current.usage, f"${cost}"))
    if current.warnings:
        return f"Reading saved but flagged ({current.warnings[0]}). Suggest checking for a leak or a faulty appliance."
    return f"Reading {current.value:,} saved. That's {current.usage} kWh since last time, about ${cost}."
