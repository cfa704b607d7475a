"""Every code example in the platform's pages (../shared/seeds) runs unchanged through
``toolpool run`` and gives its documented effect.

Each file under tests/seeds/ holds one example, verbatim; examples that the pages show as
a bare snippet (``return {...}``) are placed, unchanged, in the body of a function.
"""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.system  # each example runs through `toolpool run`, a subprocess

SEEDS = Path(__file__).parent / "seeds"

VARIANTS = {
    "default": {"site_name": "Main Street", "callee": "+15550000000"},
    "london": {"site_name": "London Bridge", "callee": "+441234567890"},
    "new_york": {"site_name": "Fifth Avenue", "callee": "+442345678901"},
    "London": {"site_name": "London (caps)", "callee": "+440000000001"},
    "New York": {"site_name": "New York (caps)", "callee": "+440000000002"},
    "orleans": {"site_name": "Orleans", "callee": "+33000000000"},
    "es": {"site_name": "Madrid", "callee": "+34000000000"},
    "en": {"site_name": "Boston", "callee": "+16170000000"},
}

BASE_CONV = {
    "state": {
        "from_": "+15551230000",
        "to": "+441234567890",
        "call_sid": "CA0001",
        "asr_lang_code": "en-US",
        "tts_lang_code": "en-US",
        "shared_id": None,
        "handoff": None,
        "disable_recordings": False,
        "stop_recording": False,
        "use_tts_for_responses": False,
        "asr_provider": "default",
        "asr_config": {},
        "listen_for_sms": False,
    },
    "env": "sandbox",
    "channel_type": "sip.polyai",
    "caller_number": "+15551230000",
    "callee_number": "+441234567890",
    "sip_headers": {"X-Language": "es"},
    "integration_attributes": {"shared_id": "SH-42"},
    "variants": VARIANTS,
    "variant": "default",
    "secrets": {"my_api_key": "sk-live-0123456789"},
}


def conv_with(**changes):
    conv = json.loads(json.dumps(BASE_CONV))
    state_changes = changes.pop("state", None)
    conv.update(changes)
    if state_changes is not None:
        conv["state"].update(state_changes)
    return conv


def run_tool(tmp_path, name, function, conv=None, args=None):
    cmd = [sys.executable, "-m", "worker.cli", "run", str(SEEDS / name), function]
    conv_file = tmp_path / "conv.json"
    conv_file.write_text(json.dumps(BASE_CONV if conv is None else conv))
    cmd += ["--conv", str(conv_file)]
    if args is not None:
        args_file = tmp_path / "args.json"
        args_file.write_text(json.dumps(args))
        cmd += ["--args", str(args_file)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert proc.stdout, f"no result on stdout; stderr:\n{proc.stderr}"
    result = json.loads(proc.stdout)
    assert proc.returncode == (0 if result["status"] == "ok" else 1), proc.stderr
    return result


def ok(result):
    assert result["status"] == "ok", result["error"]
    return result


def test_every_seed_file_has_a_test():
    tested = {name for name, *_ in CASES}
    assert tested == {p.name for p in SEEDS.glob("*.py")}


def expect_set_variables(r):
    ok(r)
    assert r["state_changes"]["set"] == {"my_variable": 1, "my_other_variable": {"property": "value"}}
    assert type(r["state"]["my_variable"]) is int


def expect_hit_10(r):
    assert ok(r)["action"] == {"content": "Well done you hit 10"}


def expect_not_10(r):
    assert ok(r)["action"] == {}


def expect_builtin_logs(r):
    assert ok(r)["logs"] == [
        {"level": "info", "message": "Caller: +15551230000, Callee: +441234567890"},
        {"level": "info", "message": "ASR language: en-US"},
    ]


def expect_current_date(r):
    value = ok(r)["state"]["current_date"]
    assert datetime.datetime.strptime(value, "%B %d, %Y")


def expect_env_seen(env):
    def check(r):
        assert ok(r)["state"]["env_seen"] == env

    return check


def expect_fake_date(r):
    assert ok(r)["state"]["current_date"] == "March 22, 1995"


def expect_deleted(r):
    ok(r)
    assert "variable_name" not in r["state"]
    assert r["state_changes"]["deleted"] == ["variable_name"]


def expect_unset_reads(r):
    assert ok(r)["state"]["reads"] == [None, None, None, "fallback"]


def expect_defaults(r):
    assert ok(r)["state"]["summary"] == {"attempts": 0, "intent": "other"}


def expect_stored_falsy(r):
    assert ok(r)["state"]["summary"] == {"attempts": 0, "intent": "other"}


def expect_markers(r):
    ok(r)
    assert r["state_changes"]["set"] == {"booking_time": None, "customer_id": None}


def expect_ask_time(r):
    assert ok(r)["action"] == {"content": "What time would you like to book?"}


def expect_content(text):
    def check(r):
        assert ok(r)["action"] == {"content": text}

    return check


def expect_start(r):
    ok(r)
    state = r["state"]
    assert datetime.datetime.strptime(state["current_date"], "%A %d-%m-%Y")
    assert state["current_weekday"] in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
    assert len(state["current_time"]) == 5
    assert state["available_times"] is None and state["user_bookings"] is None
    assert state["phone_number"] == "+15551230000"
    assert state["is_voice"] is True
    assert state["shared_id"] == "SH-42"
    assert r["action"] == {"variant": "london"}


def expect_no_action(r):
    assert ok(r)["action"] == {}


def expect_greeting(r):
    assert ok(r)["action"] == {"utterance": "Welcome to Main Street. How can I help you today?"}


def expect_listen_15(r):
    assert ok(r)["action"] == {
        "utterance": "Welcome. Please say or enter your account number.",
        "listen": {"asr": {"timeout": 15}},
    }


def expect_secret(r):
    ok(r)
    assert r["state"]["key_length"] == len("sk-live-0123456789")
    assert "sk-live-0123456789" not in json.dumps(r["logs"])
    assert r["logs"][0]["message"].startswith("using key ")


def expect_variant(name):
    def check(r):
        assert ok(r)["action"] == {"variant": name}

    return check


def expect_voice(r):
    ok(r)
    assert r["action"]["variant"] == "es"
    assert r["action"]["voice"]["provider"] == "cartesia"
    assert r["action"]["voice"]["provider_voice_id"] == "your-voice-id"


def expect_webchat(r):
    ok(r)
    assert r["state"]["is_voice"] is False and r["state"]["transfers_enabled"] is False


def expect_action(action):
    def check(r):
        assert ok(r)["action"] == action

    return check


REFER = {"type": "CALL_CENTER", "reason": "SPEAK_TO", "refer": {"phone_number": "12345"}}

CASES = [
    ("001_set_variables.py", "set_variables", None, expect_set_variables),
    ("001_read_variable.py", "check_progress", conv_with(state={"my_variable": 10}), expect_hit_10),
    ("001_builtin_keys.py", "read_builtins", None, expect_builtin_logs),
    ("001_prompt_templating.py", "start_function", None, expect_current_date),
    ("001_env.py", "configure", conv_with(env="pre-release"), expect_env_seen("pre-release")),
    ("001_dynamic_updates.py", "set_fake_date", None, expect_fake_date),
    ("001_delete.py", "forget", conv_with(state={"variable_name": "x"}), expect_deleted),
    ("001_unset_reads.py", "read_unset", None, expect_unset_reads),
    ("001_defaults_with_or.py", "defaults", None, expect_defaults),
    ("001_none_marker.py", "start_function", None, expect_markers),
    ("001_in_check.py", "was_assigned", conv_with(state={"booking_time": None}), expect_content("assigned")),
    ("002_start_function.py", "start_function", None, expect_start),
    ("002_return_empty.py", "start_function", None, expect_no_action),
    ("002_dynamic_greeting.py", "start_function", None, expect_greeting),
    ("002_listen_config.py", "start_function", None, expect_listen_15),
    ("002_get_secret.py", "start_function", None, expect_secret),
    ("002_hardcoded_map.py", "start_function", None, expect_variant("London")),
    ("002_variant_lookup.py", "start_function", None, expect_variant("london")),
    ("002_language_voice.py", "start_function", None, expect_voice),
    ("002_channel_type.py", "start_function", conv_with(channel_type="webchat"), expect_webchat),
    ("004_string_return.py", "tool", None, expect_content("Tell the user that you cannot assist with their request")),
    ("004_content.py", "tool", None, expect_content("Tell the user that you cannot assist with their request")),
    ("004_utterance.py", "tool", None, expect_action({"utterance": "I cannot assist with your request."})),
    ("004_handoff_refer.py", "tool", None, expect_action({"handoff": REFER})),
    (
        "003_handoff_invite.py",
        "tool",
        None,
        expect_action(
            {
                "handoff": {
                    "invite": {
                        "phone_number": "<eg: 2222222>",
                        "outbound_caller_id": "+15551230000",
                        "outbound_endpoint": "<ADD_YOUR_OUTBOUND_ENDPOINT_NAME>",
                        "sip_headers": {"X-ANY_HEADER_NAME": "header"},
                    }
                }
            }
        ),
    ),
    ("004_hangup.py", "tool", None, expect_action({"hangup": True})),
    (
        "003_listen_dtmf_asr.py",
        "tool",
        None,
        expect_action(
            {
                "listen": {
                    "channel": "SPEECH_AND_DTMF",
                    "dtmf": {"finish_on_key": "#", "timeout": 15, "num_digits": 5},
                    "asr": {"timeout": 20},
                }
            }
        ),
    ),
    (
        "004_listen_asr.py",
        "tool",
        None,
        expect_action({"utterance": "Can I help you with anything else?", "listen": {"asr": {"timeout": 20}}}),
    ),
    (
        "004_listen_dtmf.py",
        "tool",
        None,
        expect_action(
            {
                "utterance": "Please enter your 6-digit code followed by the hash key.",
                "listen": {
                    "channel": "SPEECH_AND_DTMF",
                    "dtmf": {
                        "num_digits": 6,
                        "finish_on_key": "#",
                        "first_digit_timeout": 5,
                        "inter_digit_timeout": 2,
                        "is_pii": True,
                    },
                },
            }
        ),
    ),
    ("004_variant.py", "tool", None, expect_variant("orleans")),
    (
        "004_variant_utterance.py",
        "tool",
        None,
        expect_action({"utterance": "Let me connect you with the Orleans location.", "variant": "orleans"}),
    ),
    (
        "004_utterance_handoff.py",
        "tool",
        None,
        expect_action({"utterance": "Let me transfer you to a specialist who can help with that.", "handoff": REFER}),
    ),
    (
        "004_utterance_hangup.py",
        "tool",
        None,
        expect_action({"utterance": "Thanks for calling, have a great day!", "hangup": True}),
    ),
    (
        "004_utterance_content.py",
        "tool",
        None,
        expect_action(
            {
                "utterance": "I've updated your reservation.",
                "content": "The reservation has been changed. Ask if there's anything else you can help with.",
            }
        ),
    ),
]


@pytest.mark.parametrize("name,function,conv,check", CASES, ids=[c[0] for c in CASES])
def test_seed_example(tmp_path, name, function, conv, check):
    check(run_tool(tmp_path, name, function, conv))


def test_read_variable_not_10(tmp_path):
    expect_not_10(run_tool(tmp_path, "001_read_variable.py", "check_progress", conv_with(state={"my_variable": 3})))


def test_env_branches(tmp_path):
    for env in ("sandbox", "live"):
        expect_env_seen(env)(run_tool(tmp_path, "001_env.py", "configure", conv_with(env=env)))


def test_defaults_replace_stored_falsy(tmp_path):
    conv = conv_with(state={"verification_attempts": 0, "call_intent": ""})
    expect_stored_falsy(run_tool(tmp_path, "001_defaults_with_or.py", "defaults", conv))


def test_none_marker_flow_step(tmp_path):
    conv = conv_with(state={"booking_time": None})
    expect_ask_time(run_tool(tmp_path, "001_none_marker.py", "flow_step", conv))


def test_in_check_never_assigned(tmp_path):
    expect_content("never assigned")(run_tool(tmp_path, "001_in_check.py", "was_assigned"))


def test_start_function_unknown_callee_goes_default(tmp_path):
    r = run_tool(tmp_path, "002_start_function.py", "start_function", conv_with(callee_number="+19999999999"))
    assert ok(r)["action"] == {"variant": "default"}


def test_language_voice_english_sets_no_voice(tmp_path):
    r = run_tool(tmp_path, "002_language_voice.py", "start_function", conv_with(sip_headers={"X-Language": "en"}))
    assert ok(r)["action"] == {"variant": "en"}
