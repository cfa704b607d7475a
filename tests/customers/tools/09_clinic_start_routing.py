"""Harbor Health start function: pick the clinic, the language and the voice, and
carry the EHR identifiers from the telephony integration into state."""
from __future__ import annotations

from typing import TYPE_CHECKING, Dict, Literal, Optional, TypedDict

import phonenumbers
from phonenumbers import NumberParseException
from polyai.voice import ElevenLabsVoice, RimeVoice

if TYPE_CHECKING:  # only for the type checker, the platform injects Conversation
    from polyai.conversation import Conversation

Language = Literal["en", "es", "fr"]


class VoiceChoice(TypedDict):
    provider_voice_id: str
    stability: float


VOICES: Dict[str, VoiceChoice] = {
    "es": {"provider_voice_id": "es-valentina-3", "stability": 0.45},
    "fr": {"provider_voice_id": "fr-amelie-1", "stability": 0.5},
}
REGION_LANGUAGE: Dict[str, Language] = {"MX": "es", "ES": "es", "PR": "es", "FR": "fr", "BE": "fr"}


def caller_region(number: Optional[str]) -> Optional[str]:
    if not number:
        return None
    try:
        parsed = phonenumbers.parse(number, "US")
    except NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.region_code_for_number(parsed)


def pick_language(conv: "Conversation") -> Language:
    header = conv.sip_headers.get("x-preferred-language")
    if header and header[:2].lower() in ("en", "es", "fr"):
        return header[:2].lower()  # type: ignore[return-value]
    return REGION_LANGUAGE.get(caller_region(conv.caller_number) or "", "en")


def start_function(conv: "Conversation"):
    clinic_id = conv.sip_headers.get("X-CLINIC-ID")
    by_id = {v.clinic_id: name for name, v in conv.variants.items()}
    conv.set_variant(by_id.get(clinic_id, "downtown"))

    language = pick_language(conv)
    conv.state.language = language
    conv.state.caller_region = caller_region(conv.caller_number)
    if language in VOICES:
        choice = VOICES[language]
        conv.set_voice(ElevenLabsVoice(provider_voice_id=choice["provider_voice_id"],
                                       stability=choice["stability"], similarity_boost=0.8))
    elif conv.channel_type == "sip.polyai" and conv.env != "live":
        conv.set_voice(RimeVoice(provider_voice_id="rime-clinic-test", speed=1.1))

    attrs = conv.integration_attributes or {}
    conv.state.patient_id = attrs.get("patient_id")
    conv.state.appointment_id = attrs.get("appointment_id")
    conv.state.verified = False
    conv.state.verification_attempts = 0
    if "after_hours" in attrs and attrs["after_hours"]:
        conv.state.after_hours = True
        return {
            "utterance": f"You've reached {conv.variant.clinic_name} after hours. If this is an emergency, hang up and dial 911.",
            "listen": {"barge_in": {"is_enabled": False}, "interjection": {"enable": True, "frequency": 4}},
        }
    greetings = {"en": "Hello, thank you for calling {clinic}.",
                 "es": "Hola, gracias por llamar a {clinic}.",
                 "fr": "Bonjour, merci d'avoir appelé {clinic}."}
    return {"utterance": greetings[language].format(clinic=conv.variant.clinic_name)}
