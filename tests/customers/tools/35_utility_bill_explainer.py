"""Explains the latest bill: tiered energy charges, fixed charges and what changed."""
import csv
import io
import itertools
from decimal import Decimal
from operator import itemgetter

import requests

TARIFF = """tier,up_to_kwh,rate
1,500,0.1421
2,1000,0.1688
3,,0.2015
"""


class Blank(dict):
    """format_map helper: a missing field renders as a placeholder, not a KeyError."""

    def __missing__(self, key):
        return f"<{key}?>"


def tiers():
    rows = list(csv.DictReader(io.StringIO(TARIFF)))
    rows.sort(key=lambda r: int(r["tier"]))
    return [(int(r["up_to_kwh"]) if r["up_to_kwh"] else None, Decimal(r["rate"])) for r in rows]


def tiered_charge(kwh):
    charges, remaining, floor = [], kwh, 0
    for ceiling, rate in tiers():
        band = remaining if ceiling is None else min(remaining, ceiling - floor)
        if band <= 0:
            break
        charges.append((band, rate, (band * rate).quantize(Decimal("0.01"))))
        remaining -= band
        floor = ceiling or floor
    return charges


def explain_bill(conv: Conversation, account_id: str = None):
    account_id = account_id or conv.state.account_id
    if not account_id:
        return "Ask for the account number on the top right of the bill."
    resp = requests.get(f"{conv.variant.api_base}/accounts/{account_id}/bills/latest", timeout=3,
                        headers={"Authorization": "Token " + conv.utils.get_secret("cascade_api_token")})
    if resp.status_code == 404:
        return "Say there's no bill yet on that account."
    resp.raise_for_status()
    bill = resp.json()
    charges = tiered_charge(int(bill["usage_kwh"]))
    energy = sum(map(itemgetter(2), charges), Decimal("0"))
    fixed = sorted(bill.get("fixed_charges", []), key=itemgetter("amount"), reverse=True)
    running = list(itertools.accumulate([energy] + [Decimal(str(f["amount"])) for f in fixed]))
    total = running[-1]
    fields = Blank(period=bill.get("period"), kwh=bill["usage_kwh"], energy=f"${energy:,.2f}",
                   total=f"${total:,.2f}", biggest=fixed[0]["name"] if fixed else "none")
    if bill.get("previous_total") is not None:
        change = total - Decimal(str(bill["previous_total"]))
        fields["change"] = f"{'up' if change > 0 else 'down'} ${abs(change):,.2f}"
    template = ("For {period} you used {kwh} kWh. Energy charges are {energy} across {tiers} tiers, "
                "the largest fixed charge is {biggest}, and the total is {total} ({change} from last bill).")
    fields["tiers"] = len(charges)
    conv.state.bill_total = str(total)
    log.info(" | ".join(f"{band} kWh @ {rate} = {amount}" for band, rate, amount in charges))
    return template.format_map(fields)
