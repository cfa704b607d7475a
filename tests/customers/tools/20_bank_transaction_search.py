"""Find card transactions by merchant name, as the caller remembers it."""
from __future__ import annotations

import functools
import heapq
import itertools
import statistics
import textwrap
from datetime import date, datetime, timedelta
from difflib import SequenceMatcher
from collections.abc import Iterable, Iterator, Mapping

import requests

MATCH_THRESHOLD = 0.6


@functools.cache
def normalise(merchant: str) -> str:
    junk = ("sq *", "tst* ", "pos ", "paypal *")
    text = merchant.lower()
    for prefix in junk:
        if text.startswith(prefix):
            text = text[len(prefix):]
    return " ".join(w for w in text.split() if not w.isdigit())


def similarity(a: str, b: str) -> float:
    a, b = normalise(a), normalise(b)
    if a in b or b in a:
        return 1.0
    return SequenceMatcher(None, a, b).ratio()


def parse(rows: Iterable[Mapping]) -> Iterator[dict]:
    for row in rows:
        if not isinstance(row, Mapping):
            continue
        when = datetime.fromisoformat(row["posted_at"])
        yield {**row, "when": when, "amount": float(row["amount"])}


def matching(rows: Iterable[dict], merchant: str, since: date) -> Iterator[dict]:
    for row in rows:
        if row["when"].date() < since:
            continue
        score = similarity(merchant, row["merchant"])
        if score >= MATCH_THRESHOLD:
            yield {**row, "score": round(score, 2)}


def search_transactions(conv: Conversation, merchant: str, days: int = 30, limit: int = 3):
    today = date.fromisoformat(conv.state.today) if conv.state.today else date.today()
    since = today - timedelta(days=int(days))
    account = (conv.state.accounts or [{}])[0].get("id")
    if not account:
        return "Ask which account to search."
    resp = requests.get(f"{conv.variant.api_base}/accounts/{account}/transactions",
                        params={"from": since.isoformat(), "to": today.isoformat()},
                        headers={"X-Api-Key": conv.utils.get_secret("core_api_key")}, timeout=4)
    resp.raise_for_status()
    found = list(matching(parse(resp.json()["transactions"]), merchant, since))
    if not found:
        return f"No transactions like {merchant!r} in the last {days} days."

    biggest = heapq.nlargest(int(limit), found, key=lambda r: (r["amount"], r["when"]))
    typical = statistics.median(r["amount"] for r in found)
    first_few = list(itertools.islice(sorted(found, key=lambda r: r["when"], reverse=True), int(limit)))
    conv.state.last_search = {"merchant": merchant, "count": len(found),
                              "ids": [r["id"] for r in first_few]}
    lines = [f"{r['when']:%b %d}: {r['merchant']} ${r['amount']:,.2f}" for r in first_few]
    summary = (f"Found {len(found)} transactions matching {merchant}. Most recent: " + "; ".join(lines)
               + f". Largest was ${biggest[0]['amount']:,.2f}; typical ${typical:,.2f}.")
    log.debug("\n".join(textwrap.wrap(summary, width=72)))
    return summary
