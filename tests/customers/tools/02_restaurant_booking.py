"""Table booking through TableBook's API: find tables, then book the one the guest picks."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import List, Optional

import requests
from dateutil import parser as dateparser

logger = logging.getLogger(__name__)

MAX_OPTIONS = 3


class BookingError(Exception):
    """Anything that stops a booking. Subclasses say what to tell the guest."""

    user_message = "Sorry, our booking system is having trouble right now."


class NoAvailability(BookingError):
    def __init__(self, party_size: int, date: str):
        super().__init__(f"no tables for {party_size} on {date}")
        self.party_size = party_size
        self.date = date

    @property
    def user_message(self) -> str:
        return f"We're fully booked for a party of {self.party_size} that day."


class SlotTaken(BookingError):
    user_message = "Oh no, that table was just taken by someone else."

    def __init__(self, slot_id: str):
        super().__init__(f"slot {slot_id} is gone")
        self.slot_id = slot_id


@dataclass(order=True)
class Slot:
    start: datetime
    slot_id: str = field(compare=False)
    area: str = field(compare=False, default="main room")
    max_party: int = field(compare=False, default=4)

    @classmethod
    def from_api(cls, raw: dict) -> "Slot":
        return cls(start=dateparser.isoparse(raw["start"]), slot_id=raw["id"],
                   area=raw.get("area", "main room"), max_party=int(raw.get("max_party", 4)))

    def spoken(self) -> str:
        return self.start.strftime("%I:%M %p").lstrip("0") + f" in the {self.area}"


def _api(conv) -> str:
    return conv.variant.api_base.rstrip("/")


def _fetch_slots(conv, date: str, party_size: int) -> List[Slot]:
    url = f"{_api(conv)}/sites/{conv.variant.site_code}/availability"
    resp = requests.get(url, params={"date": date, "party_size": party_size}, timeout=3)
    resp.raise_for_status()
    slots = [Slot.from_api(s) for s in resp.json().get("slots", [])]
    slots = [s for s in slots if s.max_party >= party_size]
    if not slots:
        raise NoAvailability(party_size, date)
    return sorted(slots)


def find_tables(conv: Conversation, date: str, time: str, party_size: int):
    day = dateparser.parse(date).date()
    wanted = dateparser.parse(f"{day.isoformat()} {time}")
    try:
        slots = _fetch_slots(conv, day.isoformat(), int(party_size))
    except BookingError as e:
        logger.info("no booking options: %s (%s)", e, type(e).__name__)
        return e.user_message
    except requests.RequestException:
        logger.exception("availability lookup failed")
        return BookingError.user_message

    closest = sorted(slots, key=lambda s: abs((s.start.replace(tzinfo=None) - wanted).total_seconds()))
    options = sorted(closest[:MAX_OPTIONS])
    conv.state.party_size = int(party_size)
    conv.state.offered_slots = [
        {"id": s.slot_id, "start": s.start.isoformat(), "spoken": s.spoken()} for s in options
    ]
    listed = "; ".join(f"option {i}: {s.spoken()}" for i, s in enumerate(options, start=1))
    return f"Tell the guest we have {len(options)} options on {day:%A %B %d}: {listed}. Ask which they prefer."


def book_table(conv: Conversation, option: int, name: Optional[str] = None):
    offered = conv.state.offered_slots or []
    if not 1 <= int(option) <= len(offered):
        return "Ask the guest which of the options they would like."
    chosen = offered[int(option) - 1]
    try:
        token = conv.utils.get_secret("tablebook_api_key")
    except KeyError as e:
        logger.error("booking API key missing (%s)", type(e).__name__)
        conv.call_handoff(destination="host_stand", reason="booking_system_unavailable",
                          utterance="Let me put you through to the host stand to finish that booking.")
        return None

    payload = {"slot_id": chosen["id"], "party_size": conv.state.party_size, "name": name or "Guest",
               "phone": conv.caller_number}
    try:
        resp = requests.post(f"{_api(conv)}/bookings", json=payload,
                             headers={"Authorization": f"Bearer {token}"}, timeout=5)
        if resp.status_code == 409:
            raise SlotTaken(chosen["id"])
        resp.raise_for_status()
    except SlotTaken as e:
        del conv.state.offered_slots[int(option) - 1]
        logger.warning("%s: %s", type(e).__name__, e)
        return e.user_message + " Offer the remaining options."
    booking = resp.json()
    conv.state.booking_ref = booking["booking_ref"]
    del conv.state.offered_slots
    return {
        "utterance": f"You're all set for {chosen['spoken']}. Your reference is {booking['booking_ref']}.",
        "content": "The booking is confirmed. Ask if there is anything else.",
    }
