"""Checked baggage quotes by route, fare class, number of bags and weight."""
import bisect
import math
import re
from collections import ChainMap
from decimal import Decimal
from enum import IntEnum


class FareClass(IntEnum):
    BASIC = 0
    MAIN = 1
    PREMIUM = 2
    BUSINESS = 3


FREE_BAGS = {FareClass.BASIC: 0, FareClass.MAIN: 0, FareClass.PREMIUM: 1, FareClass.BUSINESS: 2}
BAG_FEES = {"domestic": [Decimal("35"), Decimal("45"), Decimal("150")],
            "transatlantic": [Decimal("75"), Decimal("100"), Decimal("200")]}
# overweight surcharge tiers, by kilograms over the 23 kg allowance
OVERWEIGHT_KG = [0, 9, 19]
OVERWEIGHT_FEE = [Decimal("0"), Decimal("100"), Decimal("200")]
MAX_KG = 45
STATUS_PERKS = {"gold": {"extra_free_bags": 1}, "platinum": {"extra_free_bags": 2, "waive_overweight": True}}
DEFAULTS = {"extra_free_bags": 0, "waive_overweight": False}


def parse_weight(text):
    """'50 lb', '23kg', '20' (kg) -> kilograms, rounded up like the counter scales."""
    m = re.match(r"\s*([\d.]+)\s*(kg|kgs|kilos?|lbs?|pounds?)?\s*$", str(text).lower())
    if not m:
        raise ValueError(f"can't read weight {text!r}")
    value = float(m.group(1))
    if (m.group(2) or "kg").startswith(("lb", "pound")):
        value *= 0.45359237
    return math.ceil(value)


def overweight_fee(kg):
    over = max(0, kg - 23)
    if over == 0:
        return Decimal("0")
    return OVERWEIGHT_FEE[bisect.bisect_right(OVERWEIGHT_KG, over) - 1] or OVERWEIGHT_FEE[1]


def baggage_quote(conv: Conversation, route_type: str, bags: int, weight: str = "23kg", fare: str = "main"):
    try:
        fare_class = FareClass[fare.upper()]
    except KeyError:
        return "Ask which fare they bought: basic, main, premium or business."
    fees = BAG_FEES.get(route_type.lower())
    if fees is None:
        return "Ask whether the flight is domestic or transatlantic."
    kg = parse_weight(weight)
    if kg > MAX_KG:
        return "Bags over 45 kg can't be checked; they must go as cargo."
    perks = ChainMap(STATUS_PERKS.get(conv.state.tier or "", {}), DEFAULTS)
    free = FREE_BAGS[fare_class] + perks["extra_free_bags"]
    lines = []
    total = Decimal("0")
    for n in range(1, int(bags) + 1):
        fee = Decimal("0") if n <= free else fees[min(n - free, len(fees)) - 1]
        extra = Decimal("0") if perks["waive_overweight"] else overweight_fee(kg)
        total += fee + extra
        lines.append("bag %d: $%s%s" % (n, fee, " + $%s overweight" % extra if extra else ""))
    conv.state.baggage_quote = {"bags": int(bags), "kg": kg, "total": str(total), "fare": fare_class.name.lower()}
    print("baggage quote:", int(bags), "bags,", kg, "kg,", fare_class.name, "->", total)
    log.info("; ".join(lines))
    if total == 0:
        return "All %d bag%s are free on this fare." % (int(bags), "s" if int(bags) != 1 else "")
    return "The bags cost $%.2f in total (%s). Fees are per direction." % (total, ", ".join(lines))
