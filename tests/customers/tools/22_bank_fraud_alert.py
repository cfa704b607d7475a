"""Fraud alert follow-up: read the flagged transactions back, record the customer's answer."""
import base64
import hashlib
import hmac
import json
import secrets
from collections import deque

import requests

RECENT = deque(maxlen=5)


def canonical(payload):
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode("utf-8")


def sign(payload, key):
    digest = hmac.new(key.encode("utf-8"), canonical(payload), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def load_alert(conv, alert_id):
    resp = requests.get(f"{conv.variant.api_base}/alerts/{alert_id}",
                        headers={"X-Api-Key": conv.utils.get_secret("core_api_key")}, timeout=3)
    if resp.status_code == 404:
        return None
    resp.raise_for_status()
    return resp.json()


def review_alert(conv: Conversation, alert_id: str, recognised=None):
    alert = load_alert(conv, alert_id)
    if alert is None:
        return "Say we can't find that alert; it may already be resolved."
    items = alert["transactions"]
    if recognised is None:
        listing = "; ".join(f"{t['merchant']} for ${float(t['amount']):,.2f}" for t in items)
        conv.state.open_alert = alert_id
        return {"utterance": f"We noticed {len(items)} unusual transactions: {listing}. Do you recognise them?",
                "listen": {"asr": {"keywords": ["yes", "no"], "timeout": 10}}}

    answer = str(recognised).strip().lower() in ("yes", "true", "1", "y")
    decision = {"alert_id": alert_id, "customer_id": conv.state.customer_id, "recognised": answer,
                "transactions": sorted(t["id"] for t in items), "channel": conv.channel_type}
    nonce = secrets.token_hex(8)
    body = {**decision, "nonce": nonce}
    headers = {"X-Api-Key": conv.utils.get_secret("core_api_key"),
               "X-Signature": sign(body, conv.utils.get_secret("signing_key"))}
    resp = requests.post(f"{conv.variant.api_base}/alerts/{alert_id}/resolution", json=body,
                         headers=headers, timeout=3)
    resp.raise_for_status()
    RECENT.append(decision)
    conv.state.open_alert = None
    conv.state.alert_decisions = list(RECENT)
    log.info(f"alert {alert_id} resolved recognised={answer} nonce={nonce}")
    if answer:
        return "Thank them: the card is unblocked and the transactions are approved."
    conv.call_handoff(destination="fraud_team", reason="disputed_transactions",
                      utterance="Thanks. I've kept the card blocked and I'm connecting you with our fraud team.")
    return {"content": "Transfer in progress to the fraud team."}
