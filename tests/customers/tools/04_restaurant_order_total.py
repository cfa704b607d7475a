"""Running tab for phone takeaway orders, with tax and tip suggestions."""
from __future__ import annotations

import functools
import operator
from collections import Counter
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Dict, List, NamedTuple

PRICES: Dict[str, Decimal] = {
    "margherita": Decimal("16.50"),
    "diavola": Decimal("18.00"),
    "tiramisu": Decimal("9.25"),
    "garlic knots": Decimal("7.00"),
    "sparkling water": Decimal("4.50"),
}
TIP_RATES = (15, 18, 20)
CENT = Decimal("0.01")


class LineItem(NamedTuple):
    name: str
    quantity: int
    unit_price: Decimal

    @property
    def total(self) -> Decimal:
        return self.unit_price * self.quantity


@dataclass
class OrderLine:
    item: str
    quantity: int = 1

    def __post_init__(self):
        self.item = self.item.strip().lower()
        if self.item not in PRICES:
            raise ValueError(f"{self.item!r} is not on the takeaway menu")
        assert self.quantity > 0, "quantity must be positive"


def money(amount: Decimal) -> str:
    return "${:,.2f}".format(amount)


def _line_items(tab: Dict[str, int]) -> List[LineItem]:
    return sorted((LineItem(n, q, PRICES[n]) for n, q in tab.items()), key=operator.attrgetter("name"))


def add_to_order(conv: Conversation, item: str, quantity: int = 1):
    try:
        line = OrderLine(item, int(quantity))
    except ValueError as err:
        log.warning(str(err))
        return f"Tell the caller {item} isn't available for takeaway."
    tab = Counter(conv.state.tab or {})
    tab[line.item] += line.quantity
    conv.state.tab = dict(tab)
    count = sum(tab.values())
    return "Added {q} x {i}. The order has {n} item{s} so far.".format(
        q=line.quantity, i=line.item, n=count, s="" if count == 1 else "s")


def order_total(conv: Conversation):
    tab = conv.state.tab
    if not tab:
        return "The order is empty; ask what they would like."
    items = _line_items(tab)
    subtotal = functools.reduce(operator.add, (li.total for li in items), Decimal("0"))
    rate = Decimal(conv.variant.tax_rate if conv.variant else "0.08875")
    with localcontext() as ctx:
        ctx.rounding = ROUND_HALF_UP
        tax = (subtotal * rate).quantize(CENT)
        tips = {pct: (subtotal * pct / 100).quantize(CENT) for pct in TIP_RATES}
    total = subtotal + tax
    most = max(items, key=lambda li: li.quantity)
    conv.state.order_total = str(total)
    receipt = "\n".join("%2d x %-16s %8s" % (li.quantity, li.name, money(li.total)) for li in items)
    log.info("receipt:\n" + receipt)
    tip_text = ", ".join(f"{pct}% is {money(amount)}" for pct, amount in tips.items())
    return (f"Subtotal {money(subtotal)}, tax {money(tax)}, total {money(total)}. "
            f"Most ordered: {most.name}. Suggested tips: {tip_text}.")
