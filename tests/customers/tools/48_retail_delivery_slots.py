"""Home delivery slots for large items, and booking one."""
from datetime import datetime, timedelta
from itertools import islice

import requests
from dateutil import tz
from dateutil.rrule import DAILY, rrule


def candidate_windows(start, days, zone):
    """Two-hour windows from 8am to 6pm, Monday to Saturday."""
    first = datetime(start.year, start.month, start.day, 8, tzinfo=zone)
    rule = rrule(DAILY, dtstart=first, count=days * 5, byweekday=range(6), byhour=(8, 10, 12, 14, 16),
                 byminute=0, bysecond=0)
    for begin in rule:
        yield begin, begin + timedelta(hours=2)


def delivery_slots(conv: Conversation, postcode: str, from_date: str = None):
    zone = tz.gettz(conv.variant.timezone)
    start = datetime.fromisoformat(from_date or conv.state.today).replace(tzinfo=zone)
    resp = requests.get(f"{conv.variant.api_base}/delivery/capacity",
                        params={"postcode": postcode.replace(" ", "").upper(), "from": start.date().isoformat()},
                        headers={"Authorization": f"ApiKey {conv.utils.get_secret('northgate_api_key')}"}, timeout=3)
    match resp.status_code:
        case 200:
            full = {w["start"] for w in resp.json()["full"]}
        case 404:
            return f"Say we don't deliver to {postcode.upper()} yet."
        case code if code >= 500:
            return "Say the delivery system is down and offer to call back."
        case _:
            resp.raise_for_status()
            return None
    free = ((b, e) for b, e in candidate_windows(start, 7, zone) if b.isoformat() not in full)
    offered = list(islice(free, 3))
    conv.state.delivery_offers = [b.isoformat() for b, _ in offered]
    conv.state.delivery_postcode = postcode.upper()

    def say(b, e):
        return f"{b:%A} {b.day} {b:%B} between {b:%-I%p} and {e:%-I%p}".replace("AM", "am").replace("PM", "pm")
    return "Offer: " + "; or ".join(say(b, e) for b, e in offered) + "."


def book_delivery(conv: Conversation, choice: int):
    offers = conv.state.delivery_offers or []
    if not 0 < int(choice) <= len(offers):
        return "Ask them to choose one of the offered times."
    start = offers[int(choice) - 1]
    resp = requests.post(f"{conv.variant.api_base}/delivery/bookings", timeout=3,
                         json={"postcode": conv.state.delivery_postcode, "start": start, "order": conv.state.last_order},
                         headers={"Authorization": f"ApiKey {conv.utils.get_secret('northgate_api_key')}"})
    resp.raise_for_status()
    booking = resp.json()
    conv.state.delivery_booking = booking["id"]
    del conv.state.delivery_offers
    when = datetime.fromisoformat(start)
    return {"utterance": f"Booked for {when:%A} the {when.day}. We'll text you the day before. Reference {booking['id']}.",
            "hangup": False}
