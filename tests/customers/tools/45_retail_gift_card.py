"""Gift card balance by phone. The PIN never leaves this function in clear."""
import hashlib
import hmac
from decimal import Decimal

import requests


class GiftCard:
    def __init__(self, number, pin):
        self.number = "".join(filter(str.isdigit, str(number)))
        self.__pin = str(pin)

    def luhn_ok(self):
        total = 0
        for i, ch in enumerate(reversed(self.number)):
            d = int(ch)
            if i % 2:
                d = d * 2 - 9 if d > 4 else d * 2
            total += d
        return len(self.number) == 16 and total % 10 == 0

    def pin_proof(self, key):
        return hmac.new(key.encode(), f"{self.number}:{self.__pin}".encode(), hashlib.sha256).hexdigest()

    @property
    def masked(self):
        return "*" * 12 + self.number[-4:]

    def __eq__(self, other):
        return isinstance(other, GiftCard) and self.number == other.number

    def __hash__(self):
        return hash(self.number)

    def __repr__(self):
        return f"GiftCard({self.masked})"


def gift_card_balance(conv: Conversation, card_number: str, pin: str = None):
    card = GiftCard(card_number, pin or "")
    if not card.luhn_ok():
        return "The card number doesn't look right. Ask them to read the 16 digits again."
    if not pin:
        conv.state.gift_card = card.masked
        return {"utterance": "Please enter the four-digit PIN from the back of the card.",
                "listen": {"channel": "DTMF", "dtmf": {"num_digits": 4, "is_pii": True, "finish_on_key": "#",
                                                       "first_digit_timeout": 10, "early_listening": True}}}
    seen = conv.state.cards_checked or []
    if card.masked in seen and len(seen) >= 3:
        return "Too many cards checked on this call; offer to transfer to customer service."
    key = conv.utils.get_secret("giftcard_hmac_key")
    resp = requests.post(f"{conv.variant.api_base}/giftcards/balance", timeout=3,
                         json={"card": card.number, "proof": card.pin_proof(key)},
                         headers={"Authorization": f"ApiKey {conv.utils.get_secret('northgate_api_key')}"})
    if resp.status_code in (401, 403):
        log.warning(f"{card!r}: wrong PIN")
        return "The PIN didn't match. Ask them to try once more."
    resp.raise_for_status()
    data = resp.json()
    balance = Decimal(str(data["balance"]))
    conv.state.cards_checked = sorted(set(seen) | {card.masked})
    symbol = {"GBP": "£", "USD": "$", "EUR": "€"}.get(data.get("currency"), "")
    expiry = data.get("expires")
    text = f"The card ending {card.number[-4:]} has {symbol}{balance:,.2f} left"
    return text + (f", valid until {expiry}." if expiry else ".")
