"""Appointment reminder preferences: channel, address, how far ahead."""
from __future__ import annotations

import copy
import dataclasses
from dataclasses import asdict, dataclass, field
from email.utils import formataddr, parseaddr
from enum import StrEnum

import phonenumbers
from phonenumbers import PhoneNumberType


class Channel(StrEnum):
    SMS = "sms"
    EMAIL = "email"
    VOICE = "voice"
    NONE = "none"


DEFAULT_PREFS = {"channel": "sms", "hours_before": [24], "contact": None, "history": []}


@dataclass
class Preferences:
    channel: Channel = Channel.SMS
    hours_before: list = field(default_factory=lambda: [24])
    contact: str | None = None

    def describe(self) -> str:
        if self.channel is Channel.NONE:
            return "no reminders"
        hours = " and ".join(f"{h} hours" for h in sorted(self.hours_before, reverse=True))
        return f"{self.channel.value} reminders {hours} before, to {self.contact}"


def mobile_or_none(number: str) -> str | None:
    parsed = phonenumbers.parse(number, "US")
    kind = phonenumbers.number_type(parsed)
    if kind in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE):
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    return None


def set_reminders(conv: Conversation, channel: str, hours_before: int = 24, email: str = ""):
    try:
        chosen = Channel(channel.lower())
    except ValueError:
        return f"Say we can remind by {', '.join(c.value for c in Channel if c is not Channel.NONE)}."
    stored = copy.deepcopy(conv.state.reminder_prefs or DEFAULT_PREFS)
    prefs = Preferences(Channel(stored["channel"]), list(stored["hours_before"]), stored["contact"])

    if chosen is Channel.EMAIL:
        name, address = parseaddr(email)
        if "@" not in address:
            return "Ask the caller to spell their email address."
        prefs = dataclasses.replace(prefs, channel=chosen, contact=formataddr((name or "", address)))
    elif chosen is Channel.SMS:
        mobile = mobile_or_none(conv.caller_number)
        if mobile is None:
            conv.state.pending_channel = chosen.value
            return "The number they're calling from can't get texts; ask for a mobile number."
        prefs = dataclasses.replace(prefs, channel=chosen, contact=mobile)
    else:
        prefs = dataclasses.replace(prefs, channel=chosen, contact=conv.caller_number if chosen is Channel.VOICE else None)

    if int(hours_before) not in prefs.hours_before:
        prefs.hours_before.append(int(hours_before))
    record = asdict(prefs)
    record["channel"] = str(prefs.channel)
    record["history"] = stored.get("history", []) + [stored["channel"]]
    conv.state.reminder_prefs = record
    if "pending_channel" in conv.state:
        del conv.state.pending_channel
    log.info(f"prefs now {record}")
    return f"Confirm: {prefs.describe()}."
