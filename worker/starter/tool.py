"""A starter tool: greets callers by the number they dialled, and answers opening hours.

Run it:   toolpool run tool.py start_function --conv conv.json
          toolpool run tool.py opening_hours --conv conv.json --args args.json
Check it: toolpool check tool.py
Test it:  pytest
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # for your editor only: this import never runs, in the sandbox or anywhere
    from toolpool.tool import Conversation, ToolReturn, log

HOURS = {"saturday": "9am to 1pm", "sunday": None}


def start_function(conv: Conversation) -> ToolReturn:
    calls = (conv.state.calls or 0) + 1  # a variable never set reads as None
    conv.state.calls = calls
    site = _site_called(conv)
    conv.set_variant(site)
    api_key = conv.utils.get_secret("crm_api_key")  # conv.json "secrets" here; `toolpool secret set` on a server
    log.info(f"call {calls} from {conv.caller_number} to {site}, looked up with key {api_key}")  # logged [REDACTED]
    return {
        "utterance": f"Welcome to {conv.variants[site].site_name}. How can I help you today?",
        "listen": {"asr": {"timeout": 15}},
    }


def opening_hours(conv: Conversation, day: str) -> str:
    hours = HOURS.get(day.lower(), "9am to 6pm")
    conv.state.asked_about = day
    if hours is None:
        return f"Tell the caller we are closed on {day.capitalize()}."
    return f"Tell the caller we are open from {hours} on {day.capitalize()}."


def _site_called(conv: Conversation) -> str:
    for name, variant in conv.variants.items():
        if variant.callee == conv.callee_number:
            return name
    return "default"
