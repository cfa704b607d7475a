"""Identity check before anything clinical: last name + date of birth against the EHR."""
import hashlib
import hmac
from datetime import date, datetime

import requests

MAX_ATTEMPTS = 3
DOB_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%d %B %Y", "%B %d %Y", "%b %d %Y", "%m-%d-%Y")


class IdentityCheck:
    """Holds the salted fingerprint of the expected identity, never the raw values."""

    def __init__(self, salt, last_name, dob, attempts=0):
        self.__salt = salt.encode()
        self.__expected = self._fingerprint(last_name, dob)
        self._attempts = attempts

    def _fingerprint(self, last_name, dob):
        message = f"{self.normalise(last_name)}|{dob.isoformat()}".encode()
        return hmac.new(self.__salt, message, hashlib.sha256).hexdigest()

    @staticmethod
    def normalise(name):
        return "".join(ch for ch in name.lower() if ch.isalpha())

    @property
    def attempts(self):
        return self._attempts

    @property
    def locked(self):
        return self._attempts >= MAX_ATTEMPTS

    def check(self, last_name, dob):
        self._attempts += 1
        return hmac.compare_digest(self.__expected, self._fingerprint(last_name, dob))

    def __repr__(self):
        return f"{self.__class__.__name__}(attempts={self._attempts}, locked={self.locked})"


def parse_dob(text):
    cleaned = text.replace(",", " ").replace("  ", " ").strip()
    for fmt in DOB_FORMATS:
        try:
            return datetime.strptime(cleaned, fmt).date()
        except ValueError:
            continue
    return None


def verify_patient(conv: Conversation, last_name: str = "", date_of_birth: str = ""):
    if not date_of_birth:
        return {"utterance": "Please enter your date of birth as eight digits, month, day, then year.",
                "listen": {"channel": "DTMF", "dtmf": {"num_digits": 8, "is_pii": True, "inter_digit_timeout": 3}}}
    dob = parse_dob(date_of_birth)
    if dob is None and date_of_birth.isdigit() and len(date_of_birth) == 8:
        dob = parse_dob(f"{date_of_birth[:2]}/{date_of_birth[2:4]}/{date_of_birth[4:]}")
    if dob is None or dob > date(2026, 12, 31):
        return "Ask the caller to repeat their date of birth."

    resp = requests.get(f"{conv.variant.ehr_base}/patients/{conv.state.patient_id}",
                        headers={"Authorization": f"Bearer {conv.utils.get_secret('ehr_token')}"}, timeout=3)
    record = resp.json()
    expected_dob = date.fromisoformat(record["dob"])
    check = IdentityCheck(conv.utils.get_secret("verification_salt"), record["last_name"], expected_dob,
                          attempts=conv.state.verification_attempts or 0)
    ok = check.check(last_name or "", dob)
    conv.state.verification_attempts = check.attempts
    log.info(f"verification: {check!r} ok={ok}")
    if ok:
        conv.state.verified = True
        return f"Identity confirmed. The patient's first name is {record['first_name']}."
    if check.locked:
        return {
            "utterance": "I couldn't verify those details. Let me connect you with our front desk.",
            "handoff": {"type": "FRONT_DESK", "reason": "VERIFICATION_FAILED",
                        "refer": {"phone_number": conv.variant.front_desk,
                                  "sip_headers": {"X-Patient-Id": str(conv.state.patient_id),
                                                  "X-Attempts": str(check.attempts)}}},
        }
    left = MAX_ATTEMPTS - check.attempts
    return f"Those details don't match. Ask them to try again ({left} attempt{'s' if left != 1 else ''} left)."
