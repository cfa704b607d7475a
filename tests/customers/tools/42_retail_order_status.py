"""Where is my order?"""
import itertools
import re
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from typing import List, Optional

import requests

ORDER_RE = re.compile(r"(?:NG)?[\s-]*(\d{4})[\s-]*(\d{4})", re.I)


class OrderState(Enum):
    PLACED = "placed"
    PICKING = "picking"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"

    @property
    def spoken(self):
        return {"picking": "being picked in the warehouse"}.get(self.value, self.value)


@dataclass
class Shipment:
    carrier: str
    tracking: str
    items: List[str] = field(default_factory=list)
    eta: Optional[date] = None

    def __repr__(self):
        return f"{self.__class__.__name__}({self.carrier}:{self.tracking}, {len(self.items)} items)"


def normalise_order_number(text):
    m = ORDER_RE.search(text or "")
    return f"NG-{m.group(1)}-{m.group(2)}" if m else None


def order_status(conv: Conversation, order_number: str):
    number = normalise_order_number(order_number)
    if number is None:
        return "Ask for the order number; it starts with NG followed by eight digits."
    resp = requests.get(f"{conv.variant.api_base}/orders/{number}", timeout=3,
                        headers={"Authorization": f"ApiKey {conv.utils.get_secret('northgate_api_key')}"})
    if resp.status_code == 404:
        return f"Say we can't find order {number}; check the email confirmation."
    resp.raise_for_status()
    order = resp.json()
    state = OrderState(order["status"])
    shipments = [Shipment(s["carrier"], s["tracking"], s.get("items", []),
                          date.fromisoformat(s["eta"]) if s.get("eta") else None) for s in order.get("shipments", [])]
    shipped_items = set(itertools.chain.from_iterable(s.items for s in shipments))
    waiting = [item for item in order["items"] if item not in shipped_items]
    log.info(f"{number}: {state.name} {shipments!r} waiting={waiting}")
    conv.state.last_order = {"number": number, "status": state.value}
    if state is OrderState.CANCELLED:
        return f"Order {number} was cancelled on {order.get('cancelled_on', 'an earlier date')}; the refund takes 3-5 days."
    parts = [f"Order {number} is {state.spoken}."]
    for s in sorted(shipments, key=lambda s: s.eta or date.max):
        when = f"arriving {s.eta:%A %d %B}" if s.eta else "with no delivery date yet"
        parts.append(f"{len(s.items)} item(s) with {s.carrier}, {when}.")
    if waiting and shipments:
        parts.append(f"Still to ship: {', '.join(waiting)}.")
    return " ".join(parts)
