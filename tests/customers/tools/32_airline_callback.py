"""During disruption the agent offers a callback instead of a long hold."""
import json
import uuid
from collections import deque
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from zoneinfo import ZoneInfo

from dateutil import parser

MAX_QUEUE = 3
OPEN_HOUR, CLOSE_HOUR = 7, 22


def requested_time(when: str, tz: ZoneInfo) -> datetime:
    text = when.lower().strip()
    if text.startswith("in "):
        amount, unit = text[3:].split()[:2]
        minutes = int(amount) * (60 if unit.startswith("hour") else 1)
        return datetime.now(tz) + timedelta(minutes=minutes)
    naive = parser.parse(when)
    local = naive.replace(tzinfo=tz)
    # round-trip through UTC so a time that doesn't exist (spring forward) becomes a real one
    return local.astimezone(timezone.utc).astimezone(tz)


def schedule_callback(conv: Conversation, when: str, number: str = None):
    tz = ZoneInfo(conv.variant.timezone)
    try:
        slot = requested_time(when, tz)
    except (ValueError, OverflowError):
        return "Ask when they'd like the callback, for example 'in 30 minutes' or 'tomorrow at 9am'."
    log.debug(f"requested {when!r} -> {slot.isoformat()}")
    if not OPEN_HOUR <= slot.hour < CLOSE_HOUR:
        return f"Our callback team works {OPEN_HOUR}am to {CLOSE_HOUR - 12}pm {tz.key.split('/')[-1].replace('_', ' ')} time."

    queue = deque(conv.state.callbacks or [], maxlen=MAX_QUEUE)
    token = uuid.uuid4().hex[:10]
    entry = {"token": token, "number": number or conv.caller_number, "at": slot.isoformat(timespec="minutes"),
             "rfc2822": format_datetime(slot), "pnr": conv.state.pnr}
    if len(queue) == queue.maxlen:
        log.warning(f"dropping oldest callback {queue[0]['token']}")
    queue.append(entry)
    conv.state.callbacks = list(queue)
    log.info("callback " + json.dumps(entry, sort_keys=True))
    spoken = f"{slot:%A} at {slot:%I:%M %p}".replace(" 0", " ")
    return {"utterance": f"We'll call you back {spoken} {slot.tzname()}. Goodbye!", "hangup": True}
