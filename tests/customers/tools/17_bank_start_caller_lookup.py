"""Northwind Bank start function: recognise the caller from their number so the
agent can greet them by name. Verification still happens later in the call."""
import hashlib
import logging

import phonenumbers
import requests

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
logger = logging.getLogger("northwind.start")

LOOKUP_TIMEOUT = 0.4  # the greeting waits for us; never more than this


def e164(number, region):
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def mask(account_number):
    return "\u2022\u2022\u2022\u2022" + account_number[-4:]


def start_function(conv: Conversation):
    conv.state.verified = False
    conv.state.customer_id = None
    conv.state.first_name = None
    conv.state.today = conv.state.today or None
    region = conv.variant.country if conv.variant else "US"
    phone = e164(conv.caller_number or "", region)
    if phone is None:
        logger.info("withheld or invalid caller id")
        return {"utterance": f"Welcome to {conv.variant.brand}. How can I help you today?"}

    # a stable, non-reversible key for analytics, so we never log the raw number
    conv.state.caller_key = hashlib.sha1(phone.encode()).hexdigest()[:12]
    try:
        api_key = conv.utils.get_secret("core_api_key")
    except KeyError:
        logger.error("core_api_key is not configured; skipping caller lookup")
        return {"utterance": f"Welcome to {conv.variant.brand}. How can I help you today?"}

    try:
        resp = requests.get(f"{conv.variant.api_base}/customers/by-phone", params={"phone": phone},
                            headers={"X-Api-Key": api_key, "X-Client-Id": conv.utils.get_secret("core_client_id")},
                            timeout=LOOKUP_TIMEOUT)
    except requests.exceptions.Timeout:
        logger.warning("caller lookup timed out for %s", conv.state.caller_key)
        return {"utterance": f"Welcome to {conv.variant.brand}. How can I help you today?"}

    if resp.status_code == 404:
        logger.info("no customer for %s", conv.state.caller_key)
        return {"utterance": f"Welcome to {conv.variant.brand}. Are you an existing customer?"}
    resp.raise_for_status()
    customer = resp.json()
    conv.state.customer_id = customer["id"]
    conv.state.first_name = customer["first_name"].title()
    conv.state.accounts = [
        {"id": a["id"], "type": a["type"], "masked": mask(a["number"])}
        for a in sorted(customer.get("accounts", []), key=lambda a: a["type"])
    ]
    logger.info("recognised customer %s with %d accounts", customer["id"], len(conv.state.accounts))
    if customer.get("flags", {}).get("deceased") or customer.get("flags", {}).get("legal_hold"):
        conv.call_handoff(destination="specialist_team", reason="account_flag")
        return {"utterance": "Thank you for calling. Let me connect you with a specialist."}
    return {"utterance": f"Welcome back to {conv.variant.brand}, {conv.state.first_name}. How can I help?"}
