"""Return eligibility: each product category has its own window and rules."""
from __future__ import annotations

import secrets
from abc import ABC, abstractmethod
from datetime import date, timedelta
from typing import ClassVar, Dict, Literal, Type

Reason = Literal["changed_mind", "faulty", "wrong_item", "damaged"]


class NotReturnable(Exception):
    def __init__(self, why: str, *, offer_repair: bool = False):
        super().__init__(why)
        self.why = why
        self.offer_repair = offer_repair


class ReturnPolicy(ABC):
    registry: ClassVar[Dict[str, Type["ReturnPolicy"]]] = {}
    category: ClassVar[str] = ""
    window_days: ClassVar[int] = 30

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.category:
            ReturnPolicy.registry[cls.category] = cls

    def __init__(self, delivered: date, today: date):
        self.delivered = delivered
        self.today = today

    @property
    def age(self) -> int:
        return (self.today - self.delivered).days

    def check(self, reason: Reason) -> None:
        if reason in ("faulty", "wrong_item", "damaged"):
            return
        if self.age > self.window_days:
            raise NotReturnable(f"it's been {self.age} days; the limit is {self.window_days}")
        self.extra_rules(reason)

    @abstractmethod
    def extra_rules(self, reason: Reason) -> None: ...


class Furniture(ReturnPolicy):
    category, window_days = "furniture", 14

    def extra_rules(self, reason):
        if reason == "changed_mind":
            log.info("furniture change-of-mind returns carry a collection fee")


class Plants(ReturnPolicy):
    category, window_days = "plants", 365

    def check(self, reason):
        if reason == "changed_mind":
            raise NotReturnable("live plants can only be returned if they fail")
        super().check(reason)

    def extra_rules(self, reason):
        pass


class PowerTools(ReturnPolicy):
    category, window_days = "power_tools", 30

    def extra_rules(self, reason):
        if self.age > 7:
            raise NotReturnable("opened power tools go back within 7 days", offer_repair=True)


def check_return(conv: Conversation, sku: str, category: str, delivered_on: str, reason: Reason = "changed_mind"):
    policy_cls = ReturnPolicy.registry.get(category.lower().replace(" ", "_"))
    if policy_cls is None:
        return f"Say {category} items follow the standard 30-day policy; transfer to returns if unsure."
    today = date.fromisoformat(conv.state.today) if conv.state.today else date.today()
    policy = policy_cls(date.fromisoformat(delivered_on), today)
    try:
        policy.check(reason)
    except NotReturnable as err:
        conv.state.return_refused = {"sku": sku, "why": err.why}
        extra = " Offer a repair under warranty." if err.offer_repair else ""
        return f"Tell them we can't accept the return: {err.why}.{extra}"
    rma = "RMA-" + secrets.token_urlsafe(6)
    deadline = today + timedelta(days=14)
    conv.state.return_authorisation = {"rma": rma, "sku": sku, "reason": reason, "ship_by": deadline.isoformat()}
    return (f"The return is approved. Reference {rma}. Please send it back by {deadline:%d %B}. "
            f"{'We will cover postage.' if reason != 'changed_mind' else 'Return postage is £4.95.'}")
