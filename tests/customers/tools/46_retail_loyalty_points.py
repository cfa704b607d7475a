"""Northgate Rewards: points balance and redeeming points for vouchers."""
import bisect
from enum import IntEnum
from fractions import Fraction
from functools import reduce

REWARD_LEVELS = [500, 1000, 2500, 5000]
VOUCHERS = {500: 5, 1000: 12, 2500: 35, 5000: 80}


class Tier(IntEnum):
    GREEN = 1
    SILVER = 2
    GOLD = 3

    @property
    def multiplier(self):
        return {Tier.GREEN: Fraction(1), Tier.SILVER: Fraction(5, 4), Tier.GOLD: Fraction(3, 2)}[self]


class Wallet:
    def __init__(self, points=0, tier=Tier.GREEN, history=None):
        self.points = int(points)
        self.tier = Tier(tier)
        self.history = list(history or [])

    @property
    def best_voucher(self):
        i = bisect.bisect_right(REWARD_LEVELS, self.points)
        return REWARD_LEVELS[i - 1] if i else None

    def earn(self, spend):
        earned = int(Fraction(str(spend)) * self.tier.multiplier)
        self.points += earned
        self.history.append(["earn", earned])
        return earned

    def redeem(self, level):
        if level not in VOUCHERS or level > self.points:
            raise ValueError(f"cannot redeem {level} points from {self.points}")
        self.points -= level
        self.history.append(["redeem", level])
        return VOUCHERS[level]

    def to_state(self):
        state = {name: getattr(self, name) for name in ("points", "tier", "history")}
        state["tier"] = int(self.tier)
        return state


def load(conv):
    wallet = Wallet()
    for name, value in (conv.state.rewards or {}).items():
        if hasattr(wallet, name):
            setattr(wallet, name, Tier(value) if name == "tier" else value)
    return wallet


def points_balance(conv: Conversation, recent_spend: float = 0):
    wallet = load(conv)
    if recent_spend:
        earned = wallet.earn(recent_spend)
        log.info(f"earned {earned} at {wallet.tier.name} x{float(wallet.tier.multiplier)}")
    conv.state.rewards = wallet.to_state()
    lifetime = reduce(lambda acc, h: acc + (h[1] if h[0] == "earn" else 0), wallet.history, 0)
    best = wallet.best_voucher
    offer = f" They can redeem {best} points for a £{VOUCHERS[best]} voucher." if best else ""
    return f"{wallet.points:,} points ({wallet.tier.name.title()} tier, {lifetime:,} earned on record).{offer}"


def redeem_points(conv: Conversation, points: int):
    wallet = load(conv)
    try:
        value = wallet.redeem(int(points))
    except ValueError as err:
        log.warning(str(err))
        levels = ", ".join(str(l) for l in REWARD_LEVELS if l <= wallet.points) or "none yet"
        return f"They can't redeem {points}. Levels available: {levels}."
    conv.state.rewards = wallet.to_state()
    return {"utterance": f"Done! A £{value} voucher is on its way by email. You have {wallet.points:,} points left."}
