"""Rebooking after a cancellation: rank the alternatives, then commit the chosen one."""
import heapq
from datetime import datetime

import requests

MAX_OFFERS = 3


class Option:
    """An alternative itinerary. Fewer stops first, then earlier arrival, then cabin."""

    CABIN_RANK = {"business": 0, "premium": 1, "economy": 2}

    def __init__(self, option_id, flights, arrives, stops, cabin, seats_left):
        self.option_id = option_id
        self.flights = list(flights)
        self.arrives = datetime.fromisoformat(arrives)
        self.stops = stops
        self.cabin = cabin
        self.seats_left = seats_left

    def key(self):
        return (self.stops, self.arrives, self.CABIN_RANK.get(self.cabin, 9))

    def __lt__(self, other):
        return self.key() < other.key()

    def __eq__(self, other):
        return isinstance(other, Option) and self.option_id == other.option_id

    def __str__(self):
        via = "nonstop" if not self.stops else f"{self.stops} stop{'s' if self.stops > 1 else ''}"
        return f"{' + '.join(self.flights)}, {via}, arriving {self.arrives:%a %H:%M} in {self.cabin}"


def _headers(conv):
    return {"X-Api-Key": conv.utils.get_secret("skylark_api_key")}


def rebook_options(conv: Conversation, pnr: str = None, party_size: int = 1):
    pnr = (pnr or conv.state.pnr or "").upper()
    if not pnr:
        return "Ask for the six-character booking reference."
    resp = requests.get(f"{conv.variant.api_base}/bookings/{pnr}/alternatives", headers=_headers(conv), timeout=4)
    resp.raise_for_status()
    options = [Option(**raw) for raw in resp.json()["options"]]
    fits = [o for o in options if o.seats_left >= int(party_size)]
    best = heapq.nsmallest(MAX_OFFERS, fits)
    if not best:
        conv.call_handoff(destination="rebooking_desk", reason="no_alternatives")
        return None
    conv.state.pnr = pnr
    conv.state.rebooking_options = [o.option_id for o in best]
    spoken = " Or ".join(f"option {i}: {o}." for i, o in enumerate(best, 1))
    return f"Offer these: {spoken} Skipped {len(options) - len(fits)} with too few seats."


def choose_option(conv: Conversation, choice: int):
    offered = conv.state.rebooking_options
    if not offered:
        return "Offer the rebooking options first."
    try:
        option_id = offered[int(choice) - 1]
    except (IndexError, ValueError):
        return f"Ask them to pick a number from 1 to {len(offered)}."
    resp = requests.post(f"{conv.variant.api_base}/bookings/{conv.state.pnr}/rebook",
                         json={"option_id": option_id}, headers=_headers(conv), timeout=5)
    if resp.status_code == 409:
        offered.remove(option_id)
        return "That option just sold out; offer the remaining ones."
    resp.raise_for_status()
    ticket = resp.json()
    conv.state.rebooking_options = None
    conv.state.new_itinerary = ticket["flights"]
    return {"utterance": f"Done. You're rebooked on {' and '.join(ticket['flights'])}. "
                         f"Your booking reference stays {conv.state.pnr}.", "hangup": False}
