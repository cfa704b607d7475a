"""Smart thermostat schedules from plain speech, e.g.
'weekdays 6:30am 68F, 8am 62, weekends 9am 20C'."""
import json
import math
import re
from collections import defaultdict
from typing import Dict, Iterator, List, Tuple

import requests

DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
GROUPS = {"weekdays": DAYS[:5], "weekends": DAYS[5:], "everyday": DAYS, "daily": DAYS}
TOKEN = re.compile(r"(?P<group>weekdays|weekends|everyday|daily|mon|tue|wed|thu|fri|sat|sun)\w*"
                   r"|(?P<time>\d{1,2})(?::(?P<min>\d\d))?\s*(?P<ampm>am|pm)"
                   r"|(?P<temp>\d{1,2}(?:\.\d)?)\s*°?\s*(?P<unit>[fc])?\b", re.I)
MIN_C, MAX_C = 7.0, 30.0


def to_celsius(value: float, unit: str) -> float:
    c = (value - 32) * 5 / 9 if unit == "f" else value
    return math.floor(c * 2 + 0.5) / 2  # the device works in half degrees


def parse(text: str, default_unit: str) -> Iterator[Tuple[List[str], str, float]]:
    days, pending_time = DAYS, None
    for m in TOKEN.finditer(text.lower()):
        if m["group"]:
            key = m["group"] if m["group"] in GROUPS else m["group"][:3]
            days = GROUPS.get(key, [key])
        elif m["time"]:
            hour = int(m["time"]) % 12 + (12 if m["ampm"] == "pm" else 0)
            pending_time = f"{hour:02d}:{m['min'] or '00'}"
        elif m["temp"] and pending_time:
            yield days, pending_time, to_celsius(float(m["temp"]), (m["unit"] or default_unit).lower())
            pending_time = None


def set_schedule(conv: Conversation, device_id: str, schedule: str, unit: str = None):
    unit = (unit or ("c" if conv.variant.country == "GB" else "f")).lower()
    program: Dict[str, List[dict]] = defaultdict(list)
    clamped = []
    for days, at, celsius in parse(schedule, unit):
        if not MIN_C <= celsius <= MAX_C:
            clamped.append(celsius)
            celsius = min(max(celsius, MIN_C), MAX_C)
        for day in days:
            program[day].append({"at": at, "c": celsius})
    if not program:
        return "Ask for times and temperatures, like 'weekdays 7am 68 degrees'."
    for day in program:
        program[day].sort(key=lambda p: p["at"])
    body = {"device": device_id, "program": {d: program[d] for d in DAYS if d in program}}
    resp = requests.put(f"{conv.variant.device_base}/thermostats/{device_id}/schedule",
                        data=json.dumps(body), timeout=4,
                        headers={"Content-Type": "application/json", "X-Api-Key": conv.utils.get_secret("device_api_key")})
    if resp.status_code == 423:
        return "The thermostat is in vacation mode; ask if they want to end it first."
    resp.raise_for_status()
    conv.state.thermostat_program = body["program"]
    count = sum(len(v) for v in program.values())
    summary = ", ".join(f"{d.title()}: " + " then ".join(f"{p['at']} {p['c']:g}°C" for p in program[d])
                        for d in DAYS if d in program)
    warning = f" {len(clamped)} setting(s) were outside 7-30°C and were adjusted." if clamped else ""
    return f"Saved {count} changes. {summary}.{warning}"
