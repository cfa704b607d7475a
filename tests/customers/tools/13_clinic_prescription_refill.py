"""Prescription refill requests, with per-drug-class rules from the pharmacy formulary."""
import csv
import io
import re
from abc import ABC, abstractmethod

import requests

FORMULARY_CSV = """name,rx_class,max_refills,days_between
Lisinopril,standard,11,25
Metformin,standard,11,25
Atorvastatin,standard,11,25
Sertraline,standard,5,25
Oxycodone,controlled,0,30
Adderall,controlled,0,28
Amoxicillin,antibiotic,0,0
"""
RX_NUMBER = re.compile(r"\b(?:RX)?[- ]?(\d{7})\b", re.IGNORECASE)


def load_formulary():
    reader = csv.DictReader(io.StringIO(FORMULARY_CSV))
    return {row["name"].lower(): row for row in reader}


class RefillPolicy(ABC):
    def __init__(self, drug, max_refills, days_between):
        self.drug = drug
        self.max_refills = int(max_refills)
        self.days_between = int(days_between)

    def __repr__(self):
        return f"{self.__class__.__name__}(drug={self.drug!r}, max_refills={self.max_refills})"

    @abstractmethod
    def decide(self, refills_used, days_since_last):
        """Return (allowed, message)."""

    @classmethod
    def for_row(cls, row):
        kinds = {"standard": StandardPolicy, "controlled": ControlledPolicy, "antibiotic": AntibioticPolicy}
        return kinds[row["rx_class"]](row["name"], row["max_refills"], row["days_between"])


class StandardPolicy(RefillPolicy):
    def decide(self, refills_used, days_since_last):
        if refills_used >= self.max_refills:
            return False, "no refills left; the doctor must renew the prescription"
        if days_since_last < self.days_between:
            return False, f"too early; it can be refilled in {self.days_between - days_since_last} days"
        return True, "sent to the pharmacy"


class ControlledPolicy(StandardPolicy):
    def __init__(self, drug, max_refills, days_between):
        super().__init__(drug, max_refills, days_between)
        self.needs_visit = True

    def decide(self, refills_used, days_since_last):
        return False, "controlled medication; a provider has to review it in person"


class AntibioticPolicy(RefillPolicy):
    def decide(self, refills_used, days_since_last):
        return False, "antibiotics are not refilled; a new visit is needed"


class FormularyAudit:
    """``with FormularyAudit(drug) as audit:`` logs the decision, or the error that stopped it."""

    def __init__(self, drug):
        self.drug = drug
        self.decision = None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        outcome = self.decision if exc_type is None else f"failed with {exc_type.__name__}"
        log.info(f"audit {self.drug}: {outcome}")
        return False


def request_refill(conv: Conversation, medication: str, rx_number: str = "", days_since_last: int = 30):
    formulary = load_formulary()
    row = formulary.get(medication.strip().lower())
    if row is None:
        return f"Say {medication} isn't in our formulary and take a message for the care team."
    policy = RefillPolicy.for_row(row)
    match = RX_NUMBER.search(rx_number or "")
    rx = match.group(1) if match else None
    used = (conv.state.refills_used or {}).get(row["name"], 0)
    with FormularyAudit(row["name"]) as audit:
        allowed, why = policy.decide(used, int(days_since_last))
        audit.decision = "approved" if allowed else "refused"
        log.info(f"{policy!r} rx={rx} used={used} -> {allowed}: {why}")
        if not allowed:
            if getattr(policy, "needs_visit", False):
                conv.call_handoff(destination="nurse_line", reason="controlled_refill")
            return f"Tell the caller the {row['name']} refill can't be processed: {why}."
        resp = requests.post(f"{conv.variant.pharmacy_base}/refills", timeout=4,
                             json={"rx": rx, "drug": row["name"], "patient": conv.state.patient_id})
        if not resp.ok:
            audit.decision = f"pharmacy said {resp.status_code}"
            return "Say the pharmacy didn't accept the request and someone will call back."
    refills = dict(conv.state.refills_used or {})
    refills[row["name"]] = used + 1
    conv.state.refills_used = refills
    return f"The {row['name']} refill was {why}; it'll be ready {resp.json()['ready_by']}."
