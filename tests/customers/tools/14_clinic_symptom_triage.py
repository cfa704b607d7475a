"""First-pass symptom triage. Not a diagnosis: it decides who the caller talks to."""
import re
from collections import Counter
from enum import IntEnum
from functools import wraps


class Severity(IntEnum):
    ROUTINE = 1
    SOON = 2
    URGENT = 3
    EMERGENCY = 4


RULES = []


def rule(severity, *keywords):
    """Register a triage rule: fires when any keyword appears in the caller's words."""
    patterns = [re.compile(rf"\b{re.escape(k)}\b", re.I) for k in keywords]

    def decorate(fn):
        @wraps(fn)
        def wrapper(text, context):
            hits = [p.pattern for p in patterns if p.search(text)]
            if not hits:
                return None
            return fn(text, context, severity=severity, hits=hits)

        RULES.append(wrapper)
        return wrapper

    return decorate


@rule(Severity.EMERGENCY, "chest pain", "can't breathe", "cannot breathe", "unconscious", "stroke")
def emergency(text, context, *, severity, hits):
    return severity, "possible emergency"


@rule(Severity.URGENT, "fever", "vomiting", "bleeding")
def urgent(text, context, *, severity, hits):
    if context.get("age", 40) < 2 or context.get("pregnant"):
        return Severity.EMERGENCY, "urgent symptom in a high-risk patient"
    return severity, f"urgent symptom ({len(hits)} signs)"


@rule(Severity.SOON, "rash", "cough", "sore throat", "earache")
def soon(text, context, *, severity, hits):
    return severity, "should be seen within 48 hours"


def assess(text, context):
    findings = [result for check in RULES if (result := check(text, context))]
    if not findings:
        return Severity.ROUTINE, "no red flags"
    return max(findings, key=lambda f: f[0])


def triage(conv: Conversation, symptoms: str, age: int = None, pregnant: bool = False):
    context = {"pregnant": pregnant}
    if age is not None:
        context["age"] = int(age)
    severity, why = assess(symptoms, context)
    history = Counter(conv.state.triage_history or {})
    history[severity.name] += 1
    conv.state.triage_history = dict(history)
    conv.state.last_severity = int(severity)
    log.info(f"triage: {severity.name} ({why}); rules={[r.__name__ for r in RULES]}")

    if severity is Severity.EMERGENCY:
        return {"utterance": "Based on what you've told me, please hang up and call 911 now.", "hangup": True}
    if severity >= Severity.URGENT:
        conv.call_handoff(destination="nurse_line", reason=f"triage_{severity.name.lower()}",
                          utterance="I'm going to connect you with one of our nurses right away.")
        return None
    if severity == Severity.SOON:
        return "Offer the earliest same-week appointment and mention the walk-in hours."
    return "Offer a routine appointment."
