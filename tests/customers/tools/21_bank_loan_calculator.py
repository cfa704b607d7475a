"""Personal loan quotes: monthly payment, total interest and the first months of the schedule."""
import math
from decimal import ROUND_HALF_EVEN, Decimal, getcontext
from fractions import Fraction
from functools import cached_property, partial

getcontext().prec = 28
CENTS = Decimal("0.01")
RATE_BANDS = {"excellent": Fraction(699, 100), "good": Fraction(949, 100), "fair": Fraction(1399, 100)}


class LoanQuote:
    def __init__(self, principal, annual_rate_pct, months, /, *, fee_pct=Decimal("0")):
        self.principal = Decimal(str(principal))
        self.rate = Decimal(str(annual_rate_pct)) / 100
        self.months = int(months)
        self.fee = (self.principal * Decimal(str(fee_pct)) / 100).quantize(CENTS)

    @cached_property
    def monthly_payment(self):
        r = self.rate / 12
        if r == 0:
            return (self.principal / self.months).quantize(CENTS)
        factor = (1 + r) ** self.months
        return (self.principal * r * factor / (factor - 1)).quantize(CENTS, rounding=ROUND_HALF_EVEN)

    def schedule(self):
        balance = self.principal
        r = self.rate / 12
        for month in range(1, self.months + 1):
            interest = (balance * r).quantize(CENTS)
            principal_part = min(self.monthly_payment - interest, balance)
            balance -= principal_part
            yield month, interest, principal_part, balance

    @property
    def total_interest(self):
        return sum((i for _, i, _, _ in self.schedule()), Decimal("0"))

    def __repr__(self):
        return f"LoanQuote({self.principal}, {self.rate * 100}%, {self.months}m)"


def money(value):
    return "${:,.2f}".format(value)


def quote_loan(conv: Conversation, principal, years, *, credit: str = "good", annual_rate=None):
    rate = Fraction(str(annual_rate)) if annual_rate is not None else RATE_BANDS.get(credit.lower())
    if rate is None:
        return "Ask whether their credit is excellent, good or fair."
    amount = Decimal(str(principal).replace(",", "").replace("$", ""))
    if not Decimal("1000") <= amount <= Decimal("50000"):
        return "Personal loans are from $1,000 to $50,000."
    months = int(math.ceil(float(years) * 12))
    make = partial(LoanQuote, fee_pct=Decimal("1.5"))
    quote = make(amount, float(rate), months)
    first = list(quote.schedule())[:3]
    conv.state.loan_quote = {"principal": str(quote.principal), "rate": f"{float(rate):.2f}",
                             "months": months, "payment": str(quote.monthly_payment)}
    log.info(f"{quote!r} payment={quote.monthly_payment} fee={quote.fee}")
    steps = ", ".join(f"month {m}: {money(i)} interest" for m, i, _, _ in first)
    assert math.isclose(float(quote.rate * 100), float(rate), rel_tol=1e-9)
    return (f"At {float(rate):.2f}% APR over {months} months, the payment is {money(quote.monthly_payment)} a month. "
            f"Total interest {money(quote.total_interest)} plus a {money(quote.fee)} origination fee. ({steps})")
