"""Northgate start function: which store was dialled, is it open, and which voice."""
from datetime import datetime, time
from zoneinfo import ZoneInfo

import phonenumbers
from polyai.voice import PlayHTVoice

HOURS = {"GB": (time(8), time(20)), "US": (time(7), time(21))}
SUNDAY_HOURS = {"GB": (time(10), time(16)), "US": (time(9), time(18))}
_CACHE = {}


def store_for(conv):
    # the variant table has a phone column: build the reverse map
    callee_map = {variant.phone: name for name, variant in conv.variants.items()}
    requested = conv.sip_headers.get("X-Store")
    if requested:
        try:
            conv.set_variant(requested)
            return requested
        except Exception as exc:  # an unknown store in the header; fall back to the number
            log.warning(f"X-Store {requested!r} rejected: {type(exc).__name__}")
    name = callee_map.get(conv.callee_number, "manchester")
    conv.set_variant(name)
    return name


def spoken_number(number, country):
    if number not in _CACHE:
        parsed = phonenumbers.parse(number, country)
        _CACHE[number] = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    return _CACHE[number]


def start_function(conv: Conversation):
    name = store_for(conv)
    store = conv.variants[name]
    now = datetime.now(ZoneInfo(store.timezone))
    opens, closes = (SUNDAY_HOURS if now.weekday() == 6 else HOURS)[store.country]
    is_open = opens <= now.time() < closes
    conv.set_voice(PlayHTVoice(provider_voice_id=store.voice_id, speed=1.0))

    conv.state.store_id = store.store_id
    conv.state.store_open = is_open
    conv.state.store_phone_spoken = spoken_number(store.phone, store.country)
    conv.state.currency = store.currency
    conv.state.utc_offset_hours = now.utcoffset().total_seconds() / 3600
    attrs = conv.integration_attributes
    if attrs:
        conv.state.cart_id = attrs.get("cart_id")
        conv.state.customer_email = attrs.get("email")
    if conv.channel_type != "sip.polyai":
        return {"content": f"The customer is chatting with {store.store_name} online."}
    if not is_open:
        return {"utterance": f"Thanks for calling {store.store_name}. The store is closed right now, "
                             f"but I can help with orders and returns."}
    return str()
