"""Pre-checks for an international wire before the agent hands over to the payments team."""
from decimal import Decimal, InvalidOperation
from enum import Enum


class Currency(Enum):
    USD = ("USD", Decimal("1.00"))
    GBP = ("GBP", Decimal("1.27"))
    EUR = ("EUR", Decimal("1.08"))

    def __init__(self, code, usd_rate):
        self.code = code
        self.usd_rate = usd_rate

    @classmethod
    def parse(cls, text):
        return cls[text.strip().upper()]


class TransferError(Exception):
    spoken = "I can't set up that transfer."

    def __str__(self):
        return self.spoken


class InvalidIban(TransferError):
    def __init__(self, iban):
        super().__init__(iban)
        self.iban = iban
        self.spoken = "That account number doesn't look right; please check the IBAN."


class LimitExceeded(TransferError):
    def __init__(self, limit, attempted):
        super().__init__(limit, attempted)
        self.limit, self.attempted = limit, attempted
        self.spoken = "That's over your daily limit of ${:,.0f} (you asked for ${:,.2f}).".format(limit, attempted)


class Iban:
    LENGTHS = {"GB": 22, "DE": 22, "FR": 27, "ES": 24, "IE": 22, "NL": 18}

    def __init__(self, raw):
        self.value = "".join(raw.split()).upper()

    @staticmethod
    def checksum_ok(value):
        rearranged = value[4:] + value[:4]
        digits = "".join(str(int(ch, 36)) for ch in rearranged)
        return int(digits) % 97 == 1

    def validate(self):
        country = self.value[:2]
        if self.LENGTHS.get(country) != len(self.value) or not self.checksum_ok(self.value):
            raise InvalidIban(self.value)
        return self

    def __str__(self):
        return " ".join(self.value[i:i + 4] for i in range(0, len(self.value), 4))


def check_transfer(conv: Conversation, amount: str, currency: str, iban: str):
    cur = Currency.parse(currency)  # an unknown code is a bug in the flow, let it raise
    try:
        value = Decimal(str(amount).replace(",", ""))
    except InvalidOperation:
        return "Ask for the amount again, in numbers."
    limit = Decimal(conv.variant.daily_wire_limit)
    sent_today = Decimal(conv.state.wired_today_usd or "0")
    try:
        account = Iban(iban).validate()
        usd = (value * cur.usd_rate).quantize(Decimal("0.01"))
        if sent_today + usd > limit:
            raise LimitExceeded(limit - sent_today, usd)
    except TransferError as err:
        log.warning(f"{type(err).__name__}: {err}")
        return {"utterance": err.spoken}
    conv.state.pending_wire = {"iban": str(account), "amount": str(value), "currency": cur.code, "usd": str(usd)}
    conv.call_handoff(destination="payments_team", reason="international_wire")
    return f"Confirm {cur.code} {value:,.2f} to {account} (about ${usd:,.2f}); then transfer to payments."
