"""SkyMiles balance and tier forecast for a loyalty member."""
from dataclasses import dataclass, replace
from datetime import date

import requests
from dateutil.relativedelta import relativedelta

TIER_MILES = [("platinum", 100_000), ("gold", 50_000), ("silver", 25_000), ("blue", 0)]


def luhn_ok(number: str) -> bool:
    digits = [int(d) for d in number][::-1]
    total = sum(d if i % 2 == 0 else (d * 2 - 9 if d * 2 > 9 else d * 2) for i, d in enumerate(digits))
    return total % 10 == 0


@dataclass(frozen=True)
class Membership:
    number: str
    name: str
    miles: int
    qualifying: int
    since: date
    tier: str = "blue"

    @classmethod
    def from_api(cls, raw):
        return cls(raw["number"], raw["name"], int(raw["miles"]), int(raw["qualifying_miles"]),
                   date.fromisoformat(raw["member_since"]), raw.get("tier", "blue"))

    def projected(self, extra_miles: int) -> "Membership":
        qualifying = self.qualifying + extra_miles
        tier = next(name for name, needed in TIER_MILES if qualifying >= needed)
        return replace(self, qualifying=qualifying, tier=tier)


def miles_balance(conv: Conversation, member_number: str, planned_miles: int = 0):
    number = "".join(ch for ch in str(member_number) if ch.isdigit())
    if len(number) != 10 or not luhn_ok(number):
        return "That member number doesn't look right; ask them to read it again."
    auth = (conv.utils.get_secret("loyalty_user"), conv.utils.get_secret("loyalty_password"))
    resp = requests.get(f"{conv.variant.api_base}/loyalty/members/{number}", auth=auth, timeout=3)
    if resp.status_code == 401:
        log.error("loyalty API rejected our credentials")
        return "Say the miles system is unavailable right now."
    resp.raise_for_status()
    member = Membership.from_api(resp.json())
    future = member.projected(int(planned_miles))
    anniversary = member.since + relativedelta(years=+(date(2026, 6, 1).year - member.since.year))
    if anniversary < date(2026, 6, 1):
        anniversary += relativedelta(years=+1)
    conv.state.frequent_flyer = number
    conv.state.tier = member.tier
    text = f"{member.name} has {member.miles:,} miles and is {member.tier.title()}."
    if future.tier != member.tier:
        text += f" With {int(planned_miles):,} more qualifying miles they'd reach {future.tier.title()}."
    text += f" Their membership year renews on {anniversary:%B} {anniversary.day}."
    return text
