"""Walk-in waitlist by phone: join the list, ask where you are, leave the list."""
import bisect
import heapq
import itertools
from functools import total_ordering

# minutes per table turn, by party size bracket
TURN_MINUTES = [(2, 25), (4, 35), (6, 50), (10, 70)]
_SIZES = [size for size, _ in TURN_MINUTES]
_seq = itertools.count(1)
_served = 0


@total_ordering
class Party:
    """One entry on the list. VIPs are seated first, then by arrival."""

    def __init__(self, name, size, ticket, vip=False):
        self.name = name
        self.size = int(size)
        self.ticket = ticket
        self.vip = vip

    def __repr__(self):
        return f"{self.__class__.__name__}({self.name!r}, size={self.size}, ticket={self.ticket})"

    def __eq__(self, other):
        return isinstance(other, Party) and (self.vip, self.ticket) == (other.vip, other.ticket)

    def __lt__(self, other):
        return (not self.vip, self.ticket) < (not other.vip, other.ticket)

    def to_state(self):
        return [self.name, self.size, self.ticket, self.vip]

    @classmethod
    def from_state(cls, row):
        return cls(*row)


def _turn_minutes(size):
    index = bisect.bisect_left(_SIZES, size)
    return TURN_MINUTES[min(index, len(TURN_MINUTES) - 1)][1]


def _load(conv):
    parties = [Party.from_state(row) for row in conv.state.waitlist or []]
    heapq.heapify(parties)
    return parties


def _save(conv, parties):
    conv.state.waitlist = [p.to_state() for p in sorted(parties)]


def join_waitlist(conv: Conversation, name: str, party_size: int):
    global _served
    parties = _load(conv)
    if any(p.name.lower() == name.lower() for p in parties):
        return f"{name} is already on the list."
    ticket = max([p.ticket for p in parties], default=0) + next(_seq)
    vip = bool(conv.state.loyalty_tier in ("gold", "platinum"))
    heapq.heappush(parties, Party(name, party_size, ticket, vip=vip))
    _save(conv, parties)
    _served += 1
    ahead = sorted(parties).index(Party(name, party_size, ticket, vip))
    wait = sum(_turn_minutes(p.size) for p in heapq.nsmallest(ahead, parties)) // 2
    log.info(f"joined: {parties!r}; calls this process: {_served}")
    return f"{name} is number {ahead + 1} on the list, about {wait or 10} minutes."


def waitlist_position(conv: Conversation, name: str):
    parties = sorted(_load(conv))
    for position, party in enumerate(parties, start=1):
        if party.name.lower() == name.lower():
            return f"{party.name} is number {position} of {len(parties)}."
    return f"I can't find {name} on the list."


def leave_waitlist(conv: Conversation, name: str):
    parties = _load(conv)
    keep = [p for p in parties if p.name.lower() != name.lower()]
    if len(keep) == len(parties):
        return f"{name} wasn't on the list."
    if (gone := len(parties) - len(keep)) > 1:
        log.warning(f"removed {gone} entries named {name}")
    _save(conv, keep)
    if not keep:
        del conv.state.waitlist
    return {"utterance": f"Done, {name} is off the list.", "hangup": True}
