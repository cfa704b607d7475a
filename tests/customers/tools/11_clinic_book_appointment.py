"""Book or cancel an appointment in the EHR, from the slots offered earlier in the call."""
import logging
import uuid
from contextlib import contextmanager

import requests

logger = logging.getLogger(__name__)


class SchedulingError(Exception):
    def __init__(self, message, *, code="unknown", retryable=False):
        super().__init__(message)
        self.code = code
        self.retryable = retryable


class PatientNotVerified(SchedulingError):
    def __init__(self):
        super().__init__("patient must be verified first", code="not_verified")


class SlotUnavailable(SchedulingError):
    def __init__(self, start):
        super().__init__(f"slot at {start} no longer available", code="slot_gone", retryable=True)
        self.start = start


@contextmanager
def ehr_step(name):
    logger.debug("ehr step %s: start", name)
    try:
        yield
    except requests.RequestException as exc:
        logger.exception("ehr step %s failed", name)
        raise SchedulingError(f"{name} failed", code="ehr_down", retryable=True) from exc
    else:
        logger.debug("ehr step %s: ok", name)


def _headers(conv, idempotency=None):
    headers = {"Authorization": "Bearer " + conv.utils.get_secret("ehr_token"), "Accept": "application/json"}
    if idempotency:
        headers["Idempotency-Key"] = idempotency
    return headers


def book_appointment(conv: Conversation, slot_number: int, reason: str = "follow-up"):
    try:
        if not conv.state.verified:
            raise PatientNotVerified()
        offered = conv.state.offered_slots or []
        slot = offered[int(slot_number) - 1]
        key = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{conv.state.call_sid}/{slot['start']}"))
        with ehr_step("book"):
            resp = requests.post(f"{conv.variant.ehr_base}/appointments", headers=_headers(conv, key), timeout=5,
                                 json={"patient_id": conv.state.patient_id, "provider_id": slot["provider_id"],
                                       "start": slot["start"], "reason": reason})
            if resp.status_code == 409:
                raise SlotUnavailable(slot["start"])
            resp.raise_for_status()
    except IndexError:
        return "Ask which of the offered times they want, by number."
    except SchedulingError as err:
        logger.warning("booking failed: %s code=%s retryable=%s", type(err).__name__, err.code, err.retryable)
        if isinstance(err, PatientNotVerified):
            return "Verify the patient's identity before booking."
        return "Apologise: that time was just taken. Offer the other times." if err.retryable and err.code == "slot_gone" \
            else "Apologise: the scheduling system is down. Offer a callback."
    appointment = resp.json()
    conv.state.appointment_id = appointment["id"]
    conv.state.offered_slots = None
    return {"utterance": f"You're booked. Your confirmation number is {appointment['confirmation']}.",
            "content": "Booking done; remind them to arrive 10 minutes early."}


def cancel_appointment(conv: Conversation, appointment_id: str = None):
    appointment_id = appointment_id or conv.state.appointment_id
    if not appointment_id:
        return "Ask for the appointment number to cancel."
    with ehr_step("cancel"):
        resp = requests.delete(f"{conv.variant.ehr_base}/appointments/{appointment_id}",
                               headers=_headers(conv), timeout=5)
    if resp.status_code == 404:
        return f"No appointment {appointment_id} was found."
    resp.raise_for_status()
    del conv.state.appointment_id
    return "The appointment is cancelled. Offer to book a new one."
