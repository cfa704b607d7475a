"""Large parties and private events go to the events team, with a signed lead in their CRM."""
import hashlib
import hmac
import json
import logging
from string import Template

import requests

logging.basicConfig(level=logging.INFO)
logger = logging.getLogger("bella.events")

EVENTS_THRESHOLD = 10
LEAD_NOTE = Template("$name wants a table for $size ($occasion) on $date. Call back on $phone.")


def _sign(body: bytes, key: str) -> str:
    return hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


def _post_lead(conv, lead: dict) -> bool:
    try:
        key = conv.utils.get_secret("events_webhook_secret")
    except KeyError:
        logger.warning("no webhook secret configured; lead not sent")
        return False
    body = json.dumps(lead, sort_keys=True, separators=(",", ":")).encode()
    url = conv.variant.api_base + "/events/leads"
    resp = requests.post(url, data=body, timeout=4,
                         headers={"Content-Type": "application/json", "X-Signature": _sign(body, key)})
    logger.info("lead posted: %s", resp.status_code)
    return resp.ok


def handle_large_party(conv: Conversation, party_size: int, occasion: str = "", date: str = "", name: str = ""):
    size = int(party_size)
    if size < EVENTS_THRESHOLD:
        return "This party is small enough to book normally; use the booking tool."

    match occasion.lower().split():
        case ["wedding", *_] | [_, "wedding", *_]:
            reason, note = "wedding", "Our events team handles wedding parties personally."
        case ["birthday", *rest]:
            reason, note = "birthday", "We can do a cake for the birthday" + (" too" if rest else "") + "."
        case ["corporate" | "work" | "office", *_]:
            reason, note = "corporate", "We can send an invoice to the company."
        case []:
            reason, note = "large_party", ""
        case _:
            reason, note = "private_event", ""

    lead = {"site": conv.variant.site_code, "size": size, "occasion": reason, "date": date or "unknown",
            "name": name or "unknown", "phone": conv.caller_number}
    sent = _post_lead(conv, lead)
    conv.state.events_lead = {**lead, "sent": sent}
    logger.info(LEAD_NOTE.safe_substitute(name=name or "A caller", size=size, occasion=reason, date=date,
                                          phone=conv.caller_number))
    if conv.env != "live":
        return f"(test mode) Would transfer to events for a {reason} of {size}."
    conv.call_handoff(destination="events_team", reason=reason,
                      utterance=f"{note} Let me put you through to our events team.".strip())
    return {"content": "The caller is being transferred to the events team."}
