"""Balance inquiry for a verified caller."""
from decimal import Decimal

import requests

CURRENCY_SIGNS = {"USD": "$", "GBP": "\u00a3", "EUR": "\u20ac"}


class Account:
    def __init__(self, account_id, kind, masked, ledger, holds, currency="USD"):
        self.account_id = account_id
        self.kind = kind
        self.masked = masked
        self.ledger = Decimal(ledger)
        self.holds = Decimal(holds)
        self.currency = currency

    @property
    def available(self):
        return self.ledger - self.holds

    @property
    def overdrawn(self):
        return self.available < 0

    def money(self, amount):
        sign = CURRENCY_SIGNS.get(self.currency, self.currency + " ")
        text = "{}{:,.2f}".format(sign, abs(amount))
        return "minus " + text if amount < 0 else text

    def __str__(self):
        return f"{self.kind} account ending {self.masked[-4:]}"

    def __repr__(self):
        return f"Account({self.account_id!r}, available={self.available})"


TEMPLATE = ("Your {account} has an available balance of {available}. "
            "{holds_note}Your ledger balance is {ledger}.")


def get_balance(conv: Conversation, account_type: str = "checking"):
    if not conv.state.verified:
        return "The caller must be verified first. Run the verification tool."
    wanted = account_type.lower().rstrip("s")
    matches = [a for a in conv.state.accounts or [] if a["type"].startswith(wanted)]
    if not matches:
        kinds = sorted({a["type"] for a in conv.state.accounts or []})
        return f"Say we couldn't find a {account_type} account. They have: {', '.join(kinds) or 'none'}."
    if len(matches) > 1:
        return "Ask which one: " + ", ".join(a["masked"] for a in matches) + "."

    ref = matches[0]
    resp = requests.get(f"{conv.variant.api_base}/accounts/{ref['id']}/balance",
                        headers={"X-Api-Key": conv.utils.get_secret("core_api_key")}, timeout=3)
    resp.raise_for_status()
    data = resp.json()
    account = Account(ref["id"], ref["type"], ref["masked"], data["ledger"], data.get("holds", "0"),
                      data.get("currency", conv.variant.currency))
    log.info(repr(account))
    fields = {
        "account": account,
        "available": account.money(account.available),
        "ledger": account.money(account.ledger),
        "holds_note": "" if not account.holds else "Pending holds are {}. ".format(account.money(account.holds)),
    }
    conv.state.last_balance = {"account": ref["id"], "available": str(account.available)}
    text = TEMPLATE.format_map(fields)
    if account.overdrawn:
        text += " The account is overdrawn; offer the overdraft options."
    return text
