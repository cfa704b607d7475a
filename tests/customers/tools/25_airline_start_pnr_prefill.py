"""Skylark start function: route by dialled number, pick the desk's voice, and
pre-fill the booking reference when the IVR already captured it."""
import re
import string
from typing import Final, Optional

from polyai.voice import RimeVoice

NATO: Final = dict(zip(string.ascii_uppercase, (
    "Alfa Bravo Charlie Delta Echo Foxtrot Golf Hotel India Juliett Kilo Lima Mike November "
    "Oscar Papa Quebec Romeo Sierra Tango Uniform Victor Whiskey X-ray Yankee Zulu").split()))
PNR: Final = re.compile(r"[A-Z2-9]{6}")  # no 0/1, they look like O/I
TIERS: Final = ("blue", "silver", "gold", "platinum")


def spell(code: str) -> str:
    return ", ".join(NATO.get(ch, ch) for ch in code)


def clean_pnr(raw: Optional[str]) -> Optional[str]:
    if not raw:
        return None
    candidate = raw.strip().upper().replace(" ", "")
    return candidate if PNR.fullmatch(candidate) else None


def start_function(conv: Conversation):
    site = next((name for name, v in conv.variants.items() if v.phone == conv.callee_number), "jfk")
    conv.set_variant(site)
    desk = conv.variants[site]
    conv.set_voice(RimeVoice(provider_voice_id=desk.voice_id, speed=1.05 if site == "jfk" else 1.0))

    conv.state.hub = desk.hub
    conv.state.pnr = clean_pnr(conv.sip_headers.get("X-PNR"))
    conv.state.rebooking_options = None
    attrs = conv.integration_attributes or {}
    tier = str(attrs.get("tier", "blue")).lower()
    conv.state.tier = tier if tier in TIERS else "blue"
    conv.state.frequent_flyer = attrs.get("frequent_flyer")
    conv.state.priority = TIERS.index(conv.state.tier) >= 2

    if conv.state.pnr:
        return {
            "utterance": f"Welcome to {desk.desk_name}. Are you calling about booking {spell(conv.state.pnr)}?",
            "listen": {"asr": {"keywords": ["yes", "no", "different booking"], "timeout": 6},
                       "smart_vad": {"is_enabled": True, "max_extensions": 2, "max_extension_duration": 1.5}},
        }
    if conv.sip_headers.get("X-PNR"):
        log.warning(f"ignoring malformed PNR header {conv.sip_headers.get('x-pnr')!r}")
    return str()
