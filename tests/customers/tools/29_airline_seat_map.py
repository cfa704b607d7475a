"""Seat suggestions from the live seat map: window/aisle, and seats together for groups."""
import itertools
import re

import requests

SEAT = re.compile(r"^(?P<row>\d{1,2})(?P<letter>[A-K])$")


class Seat:
    WINDOWS = {"A", "F", "K"}
    AISLES = {"C", "D", "G"}

    def __init__(self, code, price=0, exit_row=False):
        m = SEAT.match(code)
        if not m:
            raise ValueError(f"bad seat code {code!r}")
        self.row = int(m["row"])
        self.letter = m["letter"]
        self.price = price
        self.exit_row = exit_row

    @property
    def code(self):
        return f"{self.row}{self.letter}"

    @property
    def kind(self):
        return "window" if self.letter in self.WINDOWS else "aisle" if self.letter in self.AISLES else "middle"

    def __eq__(self, other):
        return isinstance(other, Seat) and self.code == other.code

    def __hash__(self):
        return hash(self.code)

    def __lt__(self, other):
        return (self.price, self.row, self.letter) < (other.price, other.row, other.letter)

    def __repr__(self):
        return f"Seat({self.code!r}, {self.price})"


def blocks(seats, size):
    """Runs of `size` adjacent free seats in one row (no aisle in between)."""
    by_row = itertools.groupby(sorted(seats, key=lambda s: (s.row, s.letter)), key=lambda s: s.row)
    for _, row in by_row:
        row = list(row)
        for i in range(len(row) - size + 1):
            run = row[i:i + size]
            letters = "".join(s.letter for s in run)
            if letters in "ABC DEF GHK".replace(" ", "|") and "|" not in letters:
                yield run


def candidates(seats, preference, party):
    if party > 1:
        yield from (run for run in blocks(seats, party))
    else:
        yield from ([s] for s in sorted(seats) if preference in (s.kind, "any"))


def seat_options(conv: Conversation, flight: str, preference: str = "any", party_size: int = 1):
    checked = 0

    def counted(seq):
        nonlocal checked
        for item in seq:
            checked += 1
            yield item

    resp = requests.get(f"{conv.variant.api_base}/flights/{flight.upper()}/seatmap", timeout=3,
                        headers={"X-Api-Key": conv.utils.get_secret("skylark_api_key")})
    resp.raise_for_status()
    free = {Seat(s["seat"], s.get("price", 0), s.get("exit", False)) for s in resp.json()["seats"] if s["free"]}
    if conv.state.age_under_15:
        free = {s for s in free if not s.exit_row}
    picks = list(itertools.islice(counted(candidates(free, preference.lower(), int(party_size))), 3))
    log.debug(f"{len(free)} free seats, {checked} candidates looked at")
    if not picks:
        return f"No {preference} seats for {party_size} together; offer to seat the group nearby."
    conv.state.seat_offers = [[s.code for s in run] for run in picks]
    def say(run):
        price = sum(s.price for s in run)
        return "/".join(s.code for s in run) + (f" (${price} extra)" if price else " (free)")
    return "Offer: " + "; ".join(say(run) for run in picks) + "."
