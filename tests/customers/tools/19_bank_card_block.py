"""Block a lost or stolen card, with an explicit keypad confirmation."""
import uuid
from enum import StrEnum

import requests


class Reason(StrEnum):
    LOST = "lost"
    STOLEN = "stolen"
    DAMAGED = "damaged"
    FRAUD = "fraud"


class CardNotFound(LookupError):
    def __init__(self, last_four, known):
        super().__init__(f"no card ending {last_four}")
        self.last_four = last_four
        self.known = known


def find_card(cards, last_four):
    for card in cards:
        if card["last_four"] == last_four:
            return card
    raise CardNotFound(last_four, [c["last_four"] for c in cards])


def block_card(conv: Conversation, last_four: str, reason: str = "lost", confirmed: str = None):
    digits = "".join(ch for ch in str(last_four) if ch.isdigit())[-4:]
    try:
        card = find_card(conv.state.cards or [], digits)
    except CardNotFound as e:
        log.warning(f"{type(e).__name__}: {e} (known: {e.known})")
        return f"Say we can't find a card ending {e.last_four}; ask them to check the number."

    try:
        why = Reason(reason.strip().lower())
    except ValueError:
        why = Reason.LOST

    match (why, confirmed):
        case (_, None):
            conv.state.pending_block = {"card": card["id"], "reason": why.value}
            return {
                "utterance": f"To block the card ending {digits} as {why}, press 1. To cancel, press 2.",
                "listen": {"channel": "DTMF", "dtmf": {"num_digits": 1, "first_digit_timeout": 8}},
            }
        case (_, "2"):
            del conv.state.pending_block
            return "The caller cancelled. Nothing was blocked."
        case (Reason.STOLEN | Reason.FRAUD, "1") if card.get("recent_activity"):
            conv.call_handoff(destination="fraud_team", reason=f"card_{why}",
                              utterance="I've frozen the card and I'm connecting you to our fraud team.")
        case (_, "1"):
            pass
        case _:
            return "Ask them to press 1 to confirm or 2 to cancel."

    reference = f"BLK-{uuid.uuid4().hex[:8].upper()}"
    resp = requests.post(f"{conv.variant.api_base}/cards/{card['id']}/block", timeout=4,
                         json={"reason": why.value, "reference": reference},
                         headers={"X-Api-Key": conv.utils.get_secret("core_api_key")})
    resp.raise_for_status()
    conv.state.pending_block = None
    conv.state.blocked_cards = (conv.state.blocked_cards or []) + [{"card": card["id"], "reference": reference}]
    replacement = resp.json().get("replacement_eta_days")
    text = f"The card ending {digits} is blocked. Reference {reference}."
    if replacement:
        text += f" A new card arrives in {replacement} business days."
    return text
