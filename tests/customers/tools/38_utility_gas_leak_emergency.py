"""Gas emergencies: never let an LLM decide. Keyword check, then straight to the emergency desk."""
import logging
import re
import unicodedata

import phonenumbers

logger = logging.getLogger("cascade.emergency")

DANGER = re.compile(r"\b(smell(s|ing)? (of )?gas|gas (smell|leak)|rotten eggs?|hissing|carbon monoxide|co alarm)\b", re.I)
EVACUATE = re.compile(r"\b(strong|very bad|headache|dizzy|fire|explosion|can't breathe)\b", re.I)
SCRIPTS = {
    True: ("Leave the building now and don't use light switches or phones inside. "
           "Once you're outside, call {emergency}. I'm connecting you to the {company} emergency team."),
    False: "Don't use any flames or switches. I'm connecting you to the {company} emergency team now.",
}


def plain(text):
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    return " ".join(text.split())


def caller_id(number):
    if not isinstance(number, (str, bytes)) or not number:
        return "unknown"
    try:
        parsed = phonenumbers.parse(number, "US")
    except phonenumbers.NumberParseException:
        return "unknown"
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def report_emergency(conv: Conversation, description: str, address: str = ""):
    text = plain(description)
    danger = DANGER.search(text)
    if not danger:
        logger.info("no emergency keywords in %r", text[:80])
        return "This doesn't sound like a gas emergency. Continue the conversation normally."
    evacuate = bool(EVACUATE.search(text))
    logger.warning("GAS EMERGENCY (%s) evacuate=%s caller=%s", danger.group(0).lower(), evacuate, conv.caller_number)
    conv.state.emergency = {"keyword": danger.group(0).lower(), "evacuate": evacuate, "address": address or None}
    headers = {"X-Emergency-Type": "GAS", "X-Caller": caller_id(conv.caller_number)}
    fields = {"emergency": "911", "company": conv.variant.utility_name}
    if address:
        headers["X-Address"] = plain(address)[:120]
    if evacuate:
        return {
            "utterance": SCRIPTS[True].format(**fields),
            "handoff": {"type": "EMERGENCY", "reason": "GAS_EVACUATE",
                        "invite": {"phone_number": conv.variant.emergency_line,
                                   "outbound_caller_id": conv.caller_number, "sip_headers": headers}},
        }
    return {
        "utterance": SCRIPTS[False].format(**fields),
        "handoff": {"type": "EMERGENCY", "reason": "GAS_SMELL",
                    "invite": {"phone_number": conv.variant.emergency_line, "sip_headers": headers}},
    }
