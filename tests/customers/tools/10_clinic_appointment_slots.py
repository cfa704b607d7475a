"""Find open appointment slots with a provider, in the clinic's local time."""
import difflib
import itertools
import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from operator import attrgetter
from typing import Iterator, List
from zoneinfo import ZoneInfo

import requests
from dateutil import parser
from dateutil.relativedelta import relativedelta, MO, TU, WE, TH, FR

logger = logging.getLogger("harbor.slots")

PROVIDERS = {"dr patel": "P-104", "dr okonkwo": "P-221", "nurse practitioner reyes": "P-310"}
WEEKDAYS = {"monday": MO, "tuesday": TU, "wednesday": WE, "thursday": TH, "friday": FR}
VISIT_MINUTES = {"follow-up": 20, "physical": 40, "new patient": 60}


@dataclass(frozen=True)
class Slot:
    start: datetime
    provider_id: str
    minutes: int = 20
    tags: tuple = field(default=(), compare=False)

    def label(self) -> str:
        return f"{self.start:%A %B} {self.start.day} at {self.start:%I:%M %p}".replace(" 0", " ")


def resolve_provider(name: str) -> str:
    key = name.lower().replace(".", "").strip()
    match = difflib.get_close_matches(key, PROVIDERS.keys(), n=1, cutoff=0.5)
    if not match:
        raise LookupError(f"no provider like {name!r}")
    return PROVIDERS[match[0]]


def target_day(spoken: str, today: date) -> date:
    word = spoken.lower().replace("next ", "").strip()
    if word in WEEKDAYS:
        return today + relativedelta(days=+1, weekday=WEEKDAYS[word](+1))
    if word == "tomorrow":
        return today + relativedelta(days=+1)
    return parser.parse(spoken, default=datetime(today.year, today.month, today.day)).date()


def fetch(conv, provider_id: str, start: date) -> Iterator[Slot]:
    tz = ZoneInfo(conv.variant.timezone)
    url = f"{conv.variant.ehr_base}/providers/{provider_id}/slots"
    token = conv.utils.get_secret("ehr_token")
    resp = requests.get(url, params={"start": start.isoformat(), "days": 3},
                        headers={"Authorization": f"Bearer {token}"}, timeout=4)
    resp.raise_for_status()
    for raw in resp.json()["slots"]:
        when = datetime.fromisoformat(raw["start"].replace("Z", "+00:00")).astimezone(tz)
        yield Slot(when, provider_id, raw.get("minutes", 20), tuple(raw.get("tags", [])))


def find_slots(conv: Conversation, provider: str, preferred_day: str = "tomorrow", visit_type: str = "follow-up"):
    today = date.fromisoformat(conv.state.today) if conv.state.today else date.today()
    try:
        provider_id = resolve_provider(provider)
    except LookupError as exc:
        logger.info("provider lookup failed: %s", exc)
        return f"Ask the caller to repeat the provider's name; we have {', '.join(sorted(PROVIDERS))}."
    day = target_day(preferred_day, today)
    need = VISIT_MINUTES.get(visit_type, 20)
    slots: List[Slot] = sorted((s for s in fetch(conv, provider_id, day) if s.minutes >= need),
                               key=attrgetter("start"))
    if not slots:
        return f"There's nothing for a {visit_type} from {day:%A}. Offer the waitlist."
    by_day = {d: list(group) for d, group in itertools.groupby(slots, key=lambda s: s.start.date())}
    first_day, offered = next(iter(by_day.items()))
    offered = offered[:3]
    conv.state.offered_slots = [{"start": s.start.isoformat(), "provider_id": s.provider_id} for s in offered]
    logger.info("offered %d of %d slots over %d days", len(offered), len(slots), len(by_day))
    choices = "; ".join(f"{n}) {s.label()}" for n, s in enumerate(offered, 1))
    return f"Offer these {visit_type} times on {first_day:%A}: {choices}."
