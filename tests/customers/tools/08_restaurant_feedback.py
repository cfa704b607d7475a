"""Post-meal feedback by phone: a 1-5 rating plus a comment, stored anonymously."""
import hashlib
import html
import json
import re
import statistics
import uuid

import phonenumbers

FEEDBACK_NS = uuid.UUID("6f1c2a34-9d1e-4c2b-8a55-2f0e8d7c6b5a")
BLOCKLIST = re.compile(r"\b(damn|crap|awful)\b", re.IGNORECASE)
EMOJI = re.compile("[\U0001F300-\U0001FAFF\u2600-\u27BF]")


def _anonymous_id(number):
    parsed = phonenumbers.parse(number, None)
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return hashlib.sha256(e164.encode("utf-8")).hexdigest()[:16]


def _clean(comment):
    comment = EMOJI.sub("", comment)
    comment = BLOCKLIST.sub(lambda m: m.group(0)[0] + "*" * (len(m.group(0)) - 1), comment)
    return html.escape(" ".join(comment.split()))


def collect_feedback(conv: Conversation, rating=None, comment: str = ""):
    if rating is None:
        return {
            "utterance": "On a scale of one to five, how was your meal? You can press a key.",
            "listen": {"channel": "SPEECH_AND_DTMF",
                       "dtmf": {"num_digits": 1, "first_digit_timeout": 6.5, "is_pii": False},
                       "asr": {"keywords": ["one", "two", "three", "four", "five"], "timeout": 8}},
        }
    try:
        score = int(str(rating).strip())
    except ValueError:
        words = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}
        score = words.get(str(rating).strip().lower(), 0)
    if not 1 <= score <= 5:
        return "Ask again for a rating between one and five."

    guest = _anonymous_id(conv.caller_number)
    feedback_id = str(uuid.uuid5(FEEDBACK_NS, f"{conv.state.call_sid}:{guest}"))
    history = conv.state.ratings or []
    history.append(score)
    conv.state.ratings = history
    entry = {"id": feedback_id, "guest": guest, "rating": score, "comment": _clean(comment),
             "site": conv.variant.site_code if conv.variant else None}
    conv.state.feedback = entry
    log.info("feedback " + json.dumps(entry, sort_keys=True, ensure_ascii=False))

    average = statistics.mean(history)
    if score <= 2:
        conv.call_handoff(destination="manager", reason="unhappy_guest")
        return f"Apologise sincerely. The guest rated {score}/5. A manager will take the call."
    return f"Thank the guest. Rating {score}/5 recorded (their average is {average:.1f})."
