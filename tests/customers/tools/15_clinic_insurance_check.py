"""Insurance eligibility check against the clearing house before booking."""
from __future__ import annotations

import logging
from decimal import Decimal
from typing import Optional, Protocol, cast

import requests
from requests.exceptions import HTTPError, Timeout

logger = logging.getLogger(__name__)

PAYERS = {"aetna": "60054", "blue cross": "00590", "cigna": "62308", "united": "87726"}


class Payer(Protocol):
    payer_id: str

    def copay_for(self, visit: str) -> Decimal: ...


class EligibilityResult:
    def __init__(self, payer_id: str, data: dict):
        self.payer_id = payer_id
        self.active = bool(data.get("active"))
        self.plan = data.get("plan_name", "unknown plan")
        self._copays = {k: Decimal(str(v)) for k, v in (data.get("copays") or {}).items()}

    def copay_for(self, visit: str) -> Decimal:
        return self._copays.get(visit, self._copays.get("default", Decimal("0")))


def lookup(conv, payer_id: str, member_id: str) -> Optional[Payer]:
    token = conv.utils.get_secret("ehr_token")
    resp = requests.get(f"{conv.variant.ehr_base}/eligibility/{payer_id}/{member_id}", timeout=0.5,
                        headers={"Authorization": "Bearer %s" % token})
    if resp.status_code == 404:
        return None
    resp.raise_for_status()
    return cast(Payer, EligibilityResult(payer_id, resp.json()))


def check_coverage(conv: Conversation, payer: str, member_id: str, visit: str = "office"):
    payer_id = PAYERS.get(payer.lower().strip())
    if payer_id is None:
        return "Say we'll need to verify %s coverage manually and ask for a photo of the card." % payer
    member_id = member_id.replace(" ", "").upper()
    try:
        result = lookup(conv, payer_id, member_id)
    except Timeout:
        logger.warning("eligibility timed out for payer %s", payer_id)
        conv.state.coverage = {"status": "unknown", "payer_id": payer_id}
        return "Say the insurance check is slow today and we'll confirm coverage before the visit."
    except HTTPError as err:
        logger.error("eligibility error: %s", err)
        return "Say we couldn't reach the insurer."
    if result is None:
        conv.state.coverage = {"status": "not_found", "payer_id": payer_id}
        return "Say we can't find member %s with %s; ask them to double-check the ID." % (member_id, payer.title())
    res = cast(EligibilityResult, result)
    copay = result.copay_for(visit)
    conv.state.coverage = {"status": "active" if res.active else "inactive", "payer_id": payer_id,
                           "plan": res.plan, "copay": str(copay)}
    if not res.active:
        return "The %s plan is inactive. Offer self-pay rates." % res.plan
    return "Coverage is active on %s. The copay for this visit is $%.2f." % (res.plan, copay)
