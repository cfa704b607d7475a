"""Cascade start function: tell callers about a known outage in their area before
they wait for an agent, and mark calls from our QA trunk as tests."""
import html
import ipaddress
import logging
import textwrap

import requests

logger = logging.getLogger("cascade.start")
QA_NETWORKS = [ipaddress.ip_network("10.20.0.0/16"), ipaddress.ip_network("fd00:cafe::/32")]


def from_qa_trunk(conv) -> bool:
    raw = conv.sip_headers.get("X-Originating-IP")
    if not raw:
        return False
    try:
        address = ipaddress.ip_address(raw.strip("[]"))
    except ValueError:
        logger.warning("bad X-Originating-IP %r", raw)
        return False
    return any(address in net for net in QA_NETWORKS)


def outage_banner(conv, zip_code):
    token = conv.utils.get_secret("cascade_api_token")
    try:
        resp = requests.get(f"{conv.variant.api_base}/outages", params={"zip": zip_code, "service": conv.variant.service},
                            headers={"Authorization": f"Token {token}"}, timeout=0.3)
        resp.raise_for_status()
    except requests.RequestException as exc:
        logger.warning("outage feed unavailable: %s", type(exc).__name__)
        return None
    outages = resp.json().get("outages", [])
    if not outages:
        return None
    worst = max(outages, key=lambda o: o.get("customers_affected", 0))
    text = html.unescape(worst["public_message"])
    return textwrap.shorten(text, width=160, placeholder="...")


def start_function(conv: Conversation):
    by_number = {v.phone: name for name, v in conv.variants.items()}
    conv.set_variant(by_number.get(conv.callee_number, "electric"))
    conv.state.is_test_call = from_qa_trunk(conv)
    if conv.state.is_test_call:
        conv.state.disable_recordings = True
    attrs = conv.integration_attributes or {}
    zip_code = conv.sip_headers.get("X-Service-Zip") or attrs.get("service_zip")
    conv.state.service_zip = zip_code
    conv.state.account_id = attrs.get("account_id")
    banner = outage_banner(conv, zip_code) if zip_code else None
    conv.state.known_outage = banner is not None
    name = conv.variant.utility_name
    if banner:
        return {"utterance": f"Thanks for calling {name}. {banner} If you're calling about something else, stay on the line.",
                "listen": {"barge_in": {"is_enabled": True, "interruption_window": 2}}}
    return {"utterance": f"Thanks for calling {name}. How can I help?"}
