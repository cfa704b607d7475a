"""Moving home: stop service at the old address and start it at the new one."""
from __future__ import annotations

import re
from datetime import date, timedelta
from enum import Enum, auto
from typing import Optional
from urllib.parse import quote

import requests
from dateutil import parser

ABBREVIATIONS = {r"\bstreet\b": "St", r"\bavenue\b": "Ave", r"\broad\b": "Rd", r"\bapartment\b": "Apt",
                 r"\bnorth\b": "N", r"\bsouth\b": "S"}
HOLIDAYS = {date(2026, 12, 25), date(2027, 1, 1), date(2026, 11, 26), date(2026, 7, 3), date(2026, 9, 7)}
LEAD_DAYS = 3


class Outcome(Enum):
    SCHEDULED = auto()
    NEEDS_VISIT = auto()
    NOT_SERVED = auto()


def normalise_address(raw: str) -> str:
    text = " ".join(raw.replace(",", " , ").split())
    for pattern, short in ABBREVIATIONS.items():
        text = re.sub(pattern, short, text, flags=re.IGNORECASE)
    return text.replace(" , ", ", ").title()


def business_days_after(start: date, days: int) -> date:
    current = start
    while days:
        current += timedelta(days=1)
        if current.weekday() < 5 and current not in HOLIDAYS:
            days -= 1
    return current


def premise_lookup(conv, address: str) -> Optional[dict]:
    url = f"{conv.variant.api_base}/premises?address={quote(address)}"
    resp = requests.get(url, headers={"Authorization": "Token " + conv.utils.get_secret("cascade_api_token")}, timeout=3)
    matches = resp.json().get("premises", []) if resp.ok else []
    return matches[0] if len(matches) == 1 else None


def start_move(conv: Conversation, new_address: str, move_date: str, old_address: str = ""):
    today = date.fromisoformat(conv.state.today or "2026-06-01")
    try:
        wanted = parser.parse(move_date, fuzzy=True, default=parser.parse(today.isoformat())).date()
    except (ValueError, OverflowError):
        return "Ask for the moving date again."
    earliest = business_days_after(today, LEAD_DAYS)
    when = max(wanted, earliest)
    while when.weekday() >= 5 or when in HOLIDAYS:
        when += timedelta(days=1)

    address = normalise_address(new_address)
    premise = premise_lookup(conv, address)
    if premise is None:
        outcome = Outcome.NOT_SERVED
    elif premise.get("meter") == "none":
        outcome = Outcome.NEEDS_VISIT
    else:
        outcome = Outcome.SCHEDULED
    conv.state.move = {"to": address, "from": normalise_address(old_address) if old_address else None,
                       "date": when.isoformat(), "outcome": outcome.name, "premise": (premise or {}).get("id")}
    log.info(f"move {outcome.name}: {address!r} on {when} (asked {wanted}, earliest {earliest})")
    if outcome is Outcome.NOT_SERVED:
        return f"Say we don't serve {address} or couldn't find it; suggest checking the address or the local provider."
    note = "" if when == wanted else f" We can't do {wanted:%B} {wanted.day}, so the earliest is {when:%A %B} {when.day}."
    if outcome is Outcome.NEEDS_VISIT:
        return f"Service at {address} needs a technician visit to fit a meter.{note} Offer visit slots."
    return f"Service at {address} starts {when:%A %B} {when.day}.{note}"
