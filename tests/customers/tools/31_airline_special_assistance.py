"""Special assistance requests (SSR codes) for a booking."""
import copy
from enum import Flag, auto

import requests


class Need(Flag):
    NONE = 0
    WHEELCHAIR_RAMP = auto()   # WCHR: can climb steps
    WHEELCHAIR_CABIN = auto()  # WCHC: fully immobile
    BLIND = auto()             # BLND
    DEAF = auto()              # DEAF
    OXYGEN = auto()            # needs a medical form
    SERVICE_ANIMAL = auto()    # SVAN


SSR = {Need.WHEELCHAIR_RAMP: "WCHR", Need.WHEELCHAIR_CABIN: "WCHC", Need.BLIND: "BLND", Need.DEAF: "DEAF",
       Need.OXYGEN: "MEDA", Need.SERVICE_ANIMAL: "SVAN"}
WORDS = {"wheelchair": Need.WHEELCHAIR_RAMP, "can't walk": Need.WHEELCHAIR_CABIN, "cannot walk": Need.WHEELCHAIR_CABIN,
         "blind": Need.BLIND, "deaf": Need.DEAF, "oxygen": Need.OXYGEN, "guide dog": Need.SERVICE_ANIMAL,
         "service dog": Need.SERVICE_ANIMAL}
TEMPLATE = {"pnr": None, "segments": "all", "ssr": [], "remarks": []}


def parse_needs(text):
    needs = Need.NONE
    for phrase, need in WORDS.items():
        if phrase in text.lower():
            needs |= need
    if Need.WHEELCHAIR_CABIN in needs:
        needs &= ~Need.WHEELCHAIR_RAMP
    return needs


def request_assistance(conv: Conversation, description: str, pnr: str = None):
    needs = parse_needs(description)
    pnr = pnr or conv.state.pnr
    if not needs:
        return {"utterance": "What kind of assistance do you need? For example a wheelchair or a guide dog.",
                "listen": {"asr": {"keywords": sorted(WORDS), "timeout": 12,
                                   "custom_biases": {"wheelchair": 1.5, "oxygen": 1.2}}}}
    request = copy.deepcopy(TEMPLATE)
    request["pnr"] = pnr
    request["ssr"] = sorted(code for need, code in SSR.items() if need in needs)
    match (bool(needs & Need.OXYGEN), bool(needs & Need.SERVICE_ANIMAL), conv.state.hub):
        case (True, _, _):
            request["remarks"].append("MEDIF required")
        case (False, True, "LHR"):
            request["remarks"].append("UK animal health certificate")
        case (False, True, _):
            request["remarks"].append("DOT service animal form")
        case _:
            pass
    resp = requests.post(f"{conv.variant.api_base}/bookings/{pnr}/ssr", json=request, timeout=4,
                         headers={"X-Api-Key": conv.utils.get_secret("skylark_api_key")})
    resp.raise_for_status()
    conv.state.ssr = request["ssr"]
    log.info(f"ssr {request['ssr']} remarks {request['remarks']} for {pnr}")
    if Need.OXYGEN in needs:
        conv.call_handoff(destination="medical_desk", reason="medif",
                          utterance="Medical oxygen needs a clearance form, so I'll connect you with our medical desk.")
        return {"content": f"Assistance codes {', '.join(request['ssr'])} added; medical desk transfer."}
    return f"Confirm that {', '.join(request['ssr'])} is added to {pnr}. Remarks: {'; '.join(request['remarks']) or 'none'}."
