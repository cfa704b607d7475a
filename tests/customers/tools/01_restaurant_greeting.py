"""Start function for Bella Tavola's phone agent.

Routes the call to the right site from the dialled number, works out whether the
kitchen is open right now in the site's own time zone, picks a Spanish voice when
the carrier tells us the caller's language, and builds the greeting.
"""
from __future__ import annotations

import calendar
import logging
from datetime import datetime, time, timedelta
from enum import Enum
from typing import Final, Optional
from zoneinfo import ZoneInfo

from polyai.voice import CartesiaVoice

logger = logging.getLogger(__name__)

DEFAULT_SITE: Final = "midtown"
SPANISH_VOICE_ID: Final = "a0e99841-438c-4a64-b679-ae501e7d6091"

# kitchen hours by weekday (Monday = 0); None = closed all day
KITCHEN_HOURS = {
    0: None,
    1: (time(17, 0), time(22, 0)),
    2: (time(17, 0), time(22, 0)),
    3: (time(17, 0), time(22, 30)),
    4: (time(12, 0), time(23, 0)),
    5: (time(11, 0), time(23, 0)),
    6: (time(11, 0), time(21, 0)),
}


class DayPart(Enum):
    BRUNCH = "brunch"
    LUNCH = "lunch"
    DINNER = "dinner"
    LATE = "late night"

    @classmethod
    def at(cls, when: time) -> "DayPart":
        if when < time(11, 30):
            return cls.BRUNCH
        if when < time(16, 0):
            return cls.LUNCH
        if when < time(21, 30):
            return cls.DINNER
        return cls.LATE


def _fmt_time(t: time) -> str:
    """5:30pm / 5pm, the way the hosts say it."""
    hour = t.hour % 12 or 12
    suffix = "am" if t.hour < 12 else "pm"
    return f"{hour}:{t.minute:02d}{suffix}" if t.minute else f"{hour}{suffix}"


def _site_for(conv) -> str:
    by_number = {v.phone: name for name, v in conv.variants.items() if v.phone}
    site = by_number.get(conv.callee_number)
    if site is None:
        logger.warning("unknown callee %s, falling back to %s", conv.callee_number, DEFAULT_SITE)
        site = DEFAULT_SITE
    return site


def _next_opening(now: datetime) -> Optional[datetime]:
    for offset in range(8):
        day = now + timedelta(days=offset)
        hours = KITCHEN_HOURS.get(day.weekday())
        if not hours:
            continue
        opens = datetime.combine(day.date(), hours[0], tzinfo=now.tzinfo)
        closes = datetime.combine(day.date(), hours[1], tzinfo=now.tzinfo)
        if offset == 0 and now >= closes:
            continue
        return max(opens, now)
    return None


def start_function(conv: Conversation):
    site = _site_for(conv)
    conv.set_variant(site)
    variant = conv.variant
    tz = ZoneInfo(variant.timezone or "America/New_York")
    now = datetime.now(tz)

    conv.state.site_name = variant.site_name
    conv.state.local_time = now.strftime("%H:%M")
    conv.state.today = calendar.day_name[now.weekday()]
    conv.state.day_part = DayPart.at(now.time()).value
    conv.state.booking_ref = None

    language = (conv.sip_headers.get("x-caller-language") or "en").split("-")[0].lower()
    conv.state.language = language
    if language == "es":
        conv.set_voice(CartesiaVoice(provider_voice_id=SPANISH_VOICE_ID, language="es"))

    if conv.integration_attributes:
        conv.state.reservation_id = conv.integration_attributes.get("reservation_id")

    hours = KITCHEN_HOURS.get(now.weekday())
    opening = _next_opening(now)
    if hours and hours[0] <= now.time() < hours[1]:
        status = f"Our kitchen is open until {_fmt_time(hours[1])} tonight."
    elif opening is not None:
        when = "today" if opening.date() == now.date() else calendar.day_name[opening.weekday()]
        status = f"Our kitchen opens {when} at {_fmt_time(opening.time())}."
    else:
        status = "We're closed this week."
    logger.info("site=%s tz=%s open_status=%r", site, tz.key, status)

    if language == "es":
        return {"utterance": f"¡Hola! Gracias por llamar a {variant.site_name}."}
    return {"utterance": f"Thanks for calling {variant.site_name}! {status} How can I help?"}
