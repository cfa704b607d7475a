"""Payment arrangements for customers behind on their bill."""
import calendar
import contextlib
import functools
import logging
from datetime import date, datetime
from decimal import ROUND_DOWN, Decimal

import requests
from dateutil.rrule import MONTHLY, rrule

logger = logging.getLogger(__name__)
MIN_INSTALMENT = Decimal("25.00")


def audited(fn):
    @functools.wraps(fn)
    def wrapper(conv, *args, **kwargs):
        logger.info("%s called with %s", fn.__name__, kwargs or args)
        result = fn(conv, *args, **kwargs)
        logger.debug("%s -> %r", fn.__name__, result if isinstance(result, str) else type(result).__name__)
        return result
    return wrapper


def split(balance: Decimal, months: int):
    base = (balance / months).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    amounts = [base] * months
    amounts[-1] += balance - base * months  # the last one takes the pennies
    return amounts


def due_dates(first: date, day: int, months: int):
    # rrule skips months without a 31st; clamp to the month's last day instead
    for start in rrule(MONTHLY, dtstart=datetime(first.year, first.month, 1), count=months):
        last = calendar.monthrange(start.year, start.month)[1]
        yield date(start.year, start.month, min(day, last))


@audited
def propose_plan(conv: Conversation, balance, months: int, *, day_of_month: int = 1, first_month: str = None):
    amount = Decimal(str(balance).replace("$", "").replace(",", ""))
    months = int(months)
    if not 2 <= months <= 12:
        return "Plans run from 2 to 12 months."
    plan = split(amount, months)
    if plan[0] < MIN_INSTALMENT:
        months = max(2, int(amount // MIN_INSTALMENT))
        plan = split(amount, months)
    start = date.fromisoformat(first_month + "-01") if first_month else date(2027, 1, 1)
    dates = list(due_dates(start, int(day_of_month), months))
    conv.state.proposed_plan = [{"due": d.isoformat(), "amount": str(a)} for d, a in zip(dates, plan)]
    first, last = conv.state.proposed_plan[0], conv.state.proposed_plan[-1]
    differs = "" if plan[0] == plan[-1] else f", and ${last['amount']} on {dates[-1]:%B} {dates[-1].day}"
    return (f"Offer {months} payments of ${first['amount']} starting {dates[0]:%B} {dates[0].day}{differs}. "
            "Ask if they want to accept.")


@audited
def accept_plan(conv: Conversation):
    plan = conv.state.proposed_plan
    if not plan:
        return "There's no plan to accept yet; propose one first."
    resp = requests.post(f"{conv.variant.api_base}/accounts/{conv.state.account_id}/arrangements", timeout=4,
                         json={"instalments": plan}, headers={"Authorization": "Token " + conv.utils.get_secret("cascade_api_token")})
    resp.raise_for_status()
    conv.state.arrangement_id = resp.json()["arrangement_id"]
    with contextlib.suppress(KeyError, TypeError):
        del conv.state["proposed_plan"]
        conv.state.collections_hold = resp.json()["hold_until"]
    return {"utterance": f"Your payment plan is set up. The reference is {conv.state.arrangement_id}.",
            "content": "Plan accepted. Collections are paused while payments are made."}
