"""Flight status with times in each airport's local time."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import List, Optional
from zoneinfo import ZoneInfo

import requests

logger = logging.getLogger(__name__)


class FlightState(Enum):
    SCHEDULED = "scheduled"
    DELAYED = "delayed"
    BOARDING = "boarding"
    DEPARTED = "departed"
    CANCELLED = "cancelled"


@dataclass
class Leg:
    flight: str
    origin: str
    destination: str
    departs: datetime
    arrives: datetime
    state: FlightState
    estimated: Optional[datetime] = None
    notes: List[str] = field(default_factory=list)

    @property
    def delay(self) -> timedelta:
        return (self.estimated - self.departs) if self.estimated else timedelta(0)


def _fmt_delta(delta: timedelta) -> str:
    hours, rest = divmod(int(delta.total_seconds()) // 60, 60)
    parts = [f"{hours} hour{'s' * (hours != 1)}"] if hours else []
    if rest:
        parts.append(f"{rest} minute{'s' * (rest != 1)}")
    return " and ".join(parts) or "no time"


def _local(ts: str, tz: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00")).astimezone(ZoneInfo(tz))


def _clock(dt: datetime) -> str:
    return f"{dt:%I:%M %p}".lstrip("0") + f" {dt.tzname()}"


def flight_status(conv: Conversation, flight_number: str, date: str):
    number = flight_number.upper().replace(" ", "")
    if not number.startswith("SK"):
        number = "SK" + number.lstrip("0")
    resp = requests.get(f"{conv.variant.api_base}/flights/{number}", params={"date": date},
                        headers={"X-Api-Key": conv.utils.get_secret("skylark_api_key")}, timeout=3)
    if resp.status_code == 404:
        return f"Say we can't find flight {number} on {date}."
    resp.raise_for_status()
    raw = resp.json()
    leg = Leg(number, raw["origin"]["code"], raw["destination"]["code"],
              _local(raw["scheduled_departure"], raw["origin"]["tz"]),
              _local(raw["scheduled_arrival"], raw["destination"]["tz"]),
              FlightState(raw["status"]),
              _local(raw["estimated_departure"], raw["origin"]["tz"]) if raw.get("estimated_departure") else None,
              raw.get("notes", []))
    logger.info("status %s %s->%s %s delay=%s", leg.flight, leg.origin, leg.destination, leg.state.name, leg.delay)
    conv.state.last_flight = {"flight": leg.flight, "status": leg.state.value,
                              "delay_minutes": int(leg.delay.total_seconds() // 60)}
    if leg.state is FlightState.CANCELLED:
        return {"utterance": f"I'm sorry, flight {leg.flight} on {leg.departs:%B %d} is cancelled.",
                "content": "Offer rebooking options with the rebooking tool."}
    text = (f"Flight {leg.flight} from {leg.origin} departs {_clock(leg.departs)} and arrives in "
            f"{leg.destination} at {_clock(leg.arrives)} local time.")
    if leg.delay > timedelta(minutes=14):
        text += f" It's delayed by {_fmt_delta(leg.delay)}; new departure {_clock(leg.estimated)}."
    for note in leg.notes:
        text += f" Note: {note}."
    return text
