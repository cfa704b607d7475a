"""The yardstick itself: the stand-in (``standin.py``) must give the documented effects.

Three layers of proof:

* every example of the platform's pages (``tests/seeds/``) runs through the stand-in
  and passes the same documented-effect checks ``tests/test_seeds.py`` applies to
  toolpool;
* the same examples run through both the stand-in and the real sandbox and agree under
  the corpus's own comparison (the examples are what the sandbox already runs);
* small contract probes (state, sip headers, variants, handoff rules, invalid returns,
  secrets and redaction, print and logging, requests) check the stand-in against the
  README's words, and against the sandbox where the probe is something it runs today.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from tests.customers.corpus import run_sandbox, run_standin, view
from tests.egress.conftest import local_policy
from tests.test_seeds import BASE_CONV as SEED_CONV
from tests.test_seeds import CASES as SEED_CASES
from tests.test_seeds import SEEDS, conv_with, expect_content, expect_not_10, expect_stored_falsy

pytestmark = pytest.mark.system  # the stand-in runs tools in subprocesses

# Seeds that read the clock: compared by shape.
CLOCK_MASKS = [
    (r"^[A-Z][a-z]+ \d\d, \d{4}$", "<Month DD, YYYY>"),
    (r"^[A-Z][a-z]+day \d\d-\d\d-\d{4}$", "<Weekday DD-MM-YYYY>"),
    (r"^\d\d:\d\d$", "<HH:MM>"),
    (r"^(Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day$", "<Weekday>"),
]


def standin_seed(name: str, function: str, conv: dict | None) -> dict:
    return run_standin(SEEDS / name, function, json.loads(json.dumps(conv or SEED_CONV)), {}, {})


# -- the pages' examples, through the stand-in -------------------------------------------


@pytest.mark.parametrize("name,function,conv,check", SEED_CASES, ids=[c[0] for c in SEED_CASES])
def test_seed_example_documented_effect(name, function, conv, check):
    check(standin_seed(name, function, conv))


def test_seed_branches_documented_effect():
    expect_not_10(standin_seed("001_read_variable.py", "check_progress", conv_with(state={"my_variable": 3})))
    expect_stored_falsy(
        standin_seed(
            "001_defaults_with_or.py", "defaults", conv_with(state={"verification_attempts": 0, "call_intent": ""})
        )
    )
    expect_content("never assigned")(standin_seed("001_in_check.py", "was_assigned", None))
    r = standin_seed("002_start_function.py", "start_function", conv_with(callee_number="+19999999999"))
    assert r["action"] == {"variant": "default"}
    r = standin_seed("002_language_voice.py", "start_function", conv_with(sip_headers={"x-language": "en"}))
    assert r["action"] == {"variant": "en"}


@pytest.mark.parametrize("name,function,conv,check", SEED_CASES, ids=[c[0] for c in SEED_CASES])
def test_seed_example_agrees_with_sandbox(pool, name, function, conv, check):
    conv = json.loads(json.dumps(conv or SEED_CONV))
    expected = standin_seed(name, function, conv)
    actual = run_sandbox(pool, SEEDS / name, function, conv, {}, None)
    assert view(actual, CLOCK_MASKS, {}) == view(expected, CLOCK_MASKS, {})


# -- contract probes ---------------------------------------------------------------------

PROBE_HOST = "probe.customers.test"
PROBE_ROUTES = [
    {
        "method": "GET",
        "host": PROBE_HOST,
        "path": "/item/7",
        "query": {"verbose": "1"},
        "json": {"id": 7, "name": "widget"},
    },
    {"method": "GET", "host": PROBE_HOST, "path": "/item/404", "status": 404, "json": {"error": "missing"}},
    {"method": "GET", "host": PROBE_HOST, "path": "/slow", "delay": 1.0, "json": {}},
    {
        "method": "POST",
        "host": PROBE_HOST,
        "path": "/orders",
        "body": {"qty": 2},
        "headers": {"Authorization": "Bearer sk-probe-123456"},
        "status": 201,
        "json": {"order": "O-1"},
    },
]

PROBE_CONV = {
    "state": {"from_": "+15551230000", "nested": {"a": [1, 2]}, "counter": 0, "gone": "x"},
    "env": "live",
    "channel_type": "sip.polyai",
    "caller_number": "+15551230000",
    "callee_number": "+15550000000",
    "sip_headers": {"X-Language": "es", "X-Trace": "t-1"},
    "integration_attributes": {"shared_id": "SH-1"},
    "variants": {"a": {"site": "A"}, "b": {"site": "B"}},
    "variant": "a",
    "secrets": {"api_key": "sk-probe-123456", "pin": "123"},
}

PROBES = {
    "state_semantics": (
        """
def tool(conv, **kwargs):
    seen = [conv.state.never, conv.state["never"], conv.state.get("never"), conv.state.get("never", "dflt"),
            "never" in conv.state, "from_" in conv.state, conv.state.items]
    conv.state.marker = None
    seen.append("marker" in conv.state)
    conv.state.nested["a"].append(3)
    conv.state.pair = (1, "two")
    conv.state["counter"] = conv.state.counter + 1
    del conv.state.gone
    del conv.state["never"]
    conv.state.seen = seen
    conv.state.size = len(conv.state)
    conv.state.keys_seen = sorted(k for k in conv.state)
""",
        "tool",
        {},
        lambda r: (
            r["status"] == "ok"
            and r["state"]["seen"] == [None, None, None, "dflt", False, True, None, True]
            and r["state"]["nested"] == {"a": [1, 2, 3]}
            and r["state"]["pair"] == [1, "two"]
            and r["state_changes"]["deleted"] == ["gone"]
            and r["state"]["counter"] == 1
            and set(r["state_changes"]["set"]) == {"marker", "nested", "pair", "counter", "seen", "size", "keys_seen"}
        ),
    ),
    "unstorable_top_level_is_a_type_error": (
        """
def tool(conv):
    try:
        conv.state.bad = {1, 2}
    except TypeError:
        return "refused"
""",
        "tool",
        {},
        lambda r: r["action"] == {"content": "refused"} and "bad" not in r["state"],
    ),
    "sip_headers_ignore_case": (
        """
def tool(conv):
    h = conv.sip_headers
    return str([h.get("x-language"), h["X-LANGUAGE"], "x-trace" in h, h.get("missing", "-"), sorted(h)])
""",
        "tool",
        {},
        lambda r: r["action"] == {"content": "['es', 'es', True, '-', ['X-Language', 'X-Trace']]"},
    ),
    "integration_attributes_only_in_start_function": (
        """
def tool(conv):
    return str(conv.integration_attributes)

def start_function(conv):
    return conv.integration_attributes.get("shared_id")
""",
        "tool",
        {},
        lambda r: r["action"] == {"content": "None"},
    ),
    "integration_attributes_in_start_function": (
        None,
        "start_function",
        {},
        lambda r: r["action"] == {"content": "SH-1"},
    ),
    "variant_switch_and_return_wins": (
        """
def tool(conv):
    before = conv.variant.site
    conv.set_variant("b")
    return {"content": before + conv.variant.site, "variant": "a"}
""",
        "tool",
        {},
        lambda r: r["action"] == {"content": "AB", "variant": "a"},
    ),
    "unknown_variant_raises": (
        """
def tool(conv):
    conv.set_variant("zzz")
""",
        "tool",
        {},
        lambda r: r["status"] == "runtime_error" and r["error"]["kind"] == "UnknownVariant",
    ),
    "call_handoff_gives_destination_reason_utterance": (
        """
def tool(conv):
    conv.call_handoff(destination="desk", reason="help", utterance="One moment.")
    return "transferring"
""",
        "tool",
        {},
        lambda r: (
            r["action"]
            == {
                "content": "transferring",
                "utterance": "One moment.",
                "handoff": {"destination": "desk", "reason": "help"},
            }
        ),
    ),
    "returned_handoff_replaces_call_handoff": (
        """
def tool(conv):
    conv.call_handoff(destination="desk", utterance="ignored")
    return {"handoff": {"reason": "R", "refer": {"phone_number": "123"}}}
""",
        "tool",
        {},
        lambda r: r["action"] == {"handoff": {"reason": "R", "refer": {"phone_number": "123"}}},
    ),
    "returned_utterance_wins_over_call_handoff": (
        """
def tool(conv):
    conv.call_handoff(utterance="from handoff")
    return {"utterance": "from return", "listen": None}
""",
        "tool",
        {},
        lambda r: r["action"] == {"utterance": "from return", "handoff": {}},
    ),
    "invalid_return_key_keeps_logs_not_state": (
        """
def tool(conv):
    log.info("before")
    conv.state.counter = 99
    return {"utterence": "typo"}
""",
        "tool",
        {},
        lambda r: (
            r["status"] == "invalid_return"
            and r["state"]["counter"] == 0
            and r["state_changes"] == {"set": {}, "deleted": []}
            and r["logs"] == [{"level": "info", "message": "before"}]
        ),
    ),
    "invalid_return_nested_type": (
        """
def tool(conv):
    return {"listen": {"dtmf": {"num_digits": "4"}}}
""",
        "tool",
        {},
        lambda r: r["status"] == "invalid_return",
    ),
    "invalid_return_bool_is_not_a_number": (
        """
def tool(conv):
    return {"listen": {"asr": {"timeout": True}}}
""",
        "tool",
        {},
        lambda r: r["status"] == "invalid_return",
    ),
    "runtime_error_discards_state": (
        """
def tool(conv):
    conv.state.counter = 5
    log.warning("about to fail")
    raise LookupError("nope")
""",
        "tool",
        {},
        lambda r: (
            r["status"] == "runtime_error"
            and r["error"]["kind"] == "LookupError"
            and r["state"]["counter"] == 0
            and r["logs"] == [{"level": "warning", "message": "about to fail"}]
        ),
    ),
    "secret_missing_is_a_key_error_and_redacted": (
        """
def tool(conv):
    key = conv.utils.get_secret("api_key")
    pin = conv.utils.get_secret("pin")
    log.info("key=" + key + " pin=" + pin)
    try:
        conv.utils.get_secret("nope")
    except KeyError:
        log.error("missing secret is a KeyError")
    raise ValueError("bad key " + key)
""",
        "tool",
        {},
        lambda r: (
            r["logs"]
            == [
                {"level": "info", "message": "key=[REDACTED] pin=123"},
                {"level": "error", "message": "missing secret is a KeyError"},
            ]
            and r["error"]["kind"] == "ValueError"
            and "sk-probe" not in r["error"]["message"]
        ),
    ),
    "print_goes_to_info": (
        """
def tool(conv):
    print("a", 1, None)
    log.debug("d")
""",
        "tool",
        {},
        lambda r: r["logs"] == [{"level": "info", "message": "a 1 None"}, {"level": "debug", "message": "d"}],
    ),
    "requests_subset": (
        """
import requests

def tool(conv):
    base = "http://probe.customers.test:" + conv.state.port
    out = []
    r = requests.get(base + "/item/7", params={"verbose": 1}, timeout=3)
    out.append([r.status_code, r.ok, r.json()["name"], r.headers["content-type"], bool(r)])
    r = requests.get(base + "/item/404", timeout=3)
    try:
        r.raise_for_status()
    except requests.HTTPError as e:
        out.append(["http error", e.response.status_code, r.ok])
    try:
        requests.get(base + "/slow", timeout=0.2)
    except requests.exceptions.Timeout as e:
        out.append(["timeout", isinstance(e, requests.RequestException)])
    r = requests.post(base + "/orders", json={"qty": 2}, timeout=3,
                      headers={"Authorization": "Bearer " + conv.utils.get_secret("api_key")})
    out.append([r.status_code, r.json()])
    conv.state.out = out
""",
        "tool",
        {},
        lambda r: (
            r["state"]["out"]
            == [
                [200, True, "widget", "application/json", True],
                ["http error", 404, False],
                ["timeout", True],
                [201, {"order": "O-1"}],
            ]
            and len([e for e in r["logs"] if e["message"].startswith("http ")]) == 4
        ),
    ),
    "requests_without_policy_is_refused_naming_the_host": (
        """
import requests

def tool(conv):
    try:
        requests.get("http://elsewhere.test/x", timeout=1)
    except requests.ConnectionError as e:
        return "refused: " + str("elsewhere.test" in str(e))
""",
        "tool",
        {},
        lambda r: r["action"] == {"content": "refused: True"},
    ),
    "voice_effect": (
        """
from polyai.voice import CartesiaVoice, ElevenLabsVoice

def tool(conv):
    conv.set_voice(ElevenLabsVoice(provider_voice_id="first", stability=0.5))
    conv.set_voice(CartesiaVoice(provider_voice_id="v-1", speed=1.2, emotion=None))
""",
        "tool",
        {},
        lambda r: r["action"] == {"voice": {"provider": "cartesia", "provider_voice_id": "v-1", "speed": 1.2}},
    ),
    "logging_captured_at_every_level": (
        """
import logging

logging.basicConfig(level=logging.WARNING)
logger = logging.getLogger(__name__)

def tool(conv):
    logger.debug("d %s", 1)
    logger.info("i")
    logger.warning("w %(x)s", {"x": 2})
    logger.error("e")
    try:
        1 / 0
    except ZeroDivisionError:
        logger.exception("boom")
    logging.getLogger("other.lib").critical("c")
    return logger.name
""",
        "tool",
        {},
        lambda r: (
            r["logs"]
            == [
                {"level": "debug", "message": "d 1"},
                {"level": "info", "message": "i"},
                {"level": "warning", "message": "w 2"},
                {"level": "error", "message": "e"},
                {
                    "level": "error",
                    "message": "boom\nTraceback (most recent call last):\n"
                    '  File "probe_logging_captured_at_every_level.py", line 12, in tool\n'
                    "    1 / 0\nZeroDivisionError: division by zero",
                },
                {"level": "error", "message": "c"},
            ]
            and r["action"] == {"content": "probe_logging_captured_at_every_level"}
        ),
    ),
}

# Probes that only the stand-in runs (none: every probe is also compared with the sandbox).
CPYTHON_ONLY: set[str] = set()


def write_probe(tmp_path: Path, name: str) -> Path:
    source = PROBES[name][0] or PROBES["integration_attributes_only_in_start_function"][0]
    path = tmp_path / f"probe_{name}.py"
    path.write_text(textwrap.dedent(source).lstrip(), encoding="utf-8")
    return path


@pytest.fixture
def probe_server(canned):
    for route in PROBE_ROUTES:
        if route not in canned.routes:
            canned.routes.append(route)
    return canned


def probe_conv(port: int) -> dict:
    conv = json.loads(json.dumps(PROBE_CONV))
    conv["state"]["port"] = str(port)
    return conv


@pytest.mark.parametrize("name", sorted(PROBES))
def test_probe_documented_effect(tmp_path, probe_server, name):
    _, function, args, check = PROBES[name]
    resolve = {PROBE_HOST: "127.0.0.1"} if name == "requests_subset" else {}
    result = run_standin(write_probe(tmp_path, name), function, probe_conv(probe_server.port), args, resolve)
    assert check(result), json.dumps(result, indent=1)[:3000]


@pytest.mark.parametrize("name", sorted(set(PROBES) - CPYTHON_ONLY))
def test_probe_agrees_with_sandbox(tmp_path, pool, probe_server, name):
    _, function, args, _ = PROBES[name]
    path = write_probe(tmp_path, name)
    conv = probe_conv(probe_server.port)
    hosts = [PROBE_HOST] if name == "requests_subset" else []
    expected = run_standin(path, function, conv, args, dict.fromkeys(hosts, "127.0.0.1"))
    actual = run_sandbox(pool, path, function, conv, args, local_policy(probe_server, *hosts) if hosts else None)
    assert view(actual, [], {}) == view(expected, [], {}), (actual.get("error") or {}).get("message")
