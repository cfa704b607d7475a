"""Validation of everything that crosses the trust boundary as data, in the supervisor.

Runs in the trusted supervisor and sees plain JSON data only (``dict``, ``list``,
``str``, ``int``, ``float``, ``bool``, ``None`` as ``json.loads`` makes them), never a
tool object. Two directions:

* **From the caller** (``validate_conversation``, ``validate_args``): the conv.json-style
  input and the tool's arguments. A mistake raises ``InvalidInput(field, message)``
  with a dotted field such as ``conv.sip_headers.X-Foo``.
* **From the child** (``normalize_action``, ``normalize_state``, ``normalize_logs``):
  the child is untrusted, so every value is checked again even though the child's own
  code checked it too. A bad value raises ``InvalidReturn(field, message)`` with a
  dotted field such as ``listen.dtmf.num_digits``; a bad effect is named after the
  ``conv`` method that records it (``set_variant``, ``set_voice.speed``, ``call_handoff.reason``).

Plain JSON data (a state, integration attributes, variant columns, arguments) is
checked, copied and compared by ``sandbox.plaindata``, in time linear in its size.

Everything is exact-typed: ``True`` is not a number and ``1`` is not a bool. Numbers are
``int`` or ``float`` (finite); counts are ``int``. Strings must be valid UTF-8 (no lone
surrogates), and strings bound for SIP (handoff routes, header names and values) may not
hold control characters, so nothing can inject a header line.

The return contract (platform docs 003 and 004; 004 stands where they differ)
-----------------------------------------------------------------------------

``None`` or ``""``
    no action: ``{}``.
a ``str``
    ``{"content": s}``.
a ``dict``, keys among:
    ``content`` str, ``utterance`` str, ``hangup`` bool,
    ``variant`` str (a configured variant name when any are configured),
    ``handoff`` {``type`` str, ``reason`` str, and exactly one of
    ``refer`` {``phone_number`` (required), ``sip_headers``},
    ``invite`` {``phone_number`` (required), ``outbound_caller_id``, ``outbound_endpoint``, ``sip_headers``},
    ``bye`` {``sip_headers``}},
    ``listen`` {``listen`` bool, ``delayed_response`` bool,
    ``asr`` {``timeout`` seconds, ``keywords`` [str], ``custom_biases`` {str: number},
    ``fields`` [str], ``corrections`` {heard str: replacement str}},
    ``dtmf`` {``num_digits`` int >= 1, ``first_digit_timeout`` seconds,
    ``inter_digit_timeout`` seconds, ``finish_on_key`` one of 0-9 * # or "",
    ``early_listening`` bool, ``is_pii`` bool, ``timeout`` seconds (see below)},
    ``channel`` "SPEECH" | "DTMF" | "SPEECH_AND_DTMF",
    ``barge_in`` {``is_enabled`` bool, ``interruption_window`` seconds},
    ``smart_vad`` {``is_enabled`` bool, ``max_extensions`` int >= 0, ``max_extension_duration`` seconds},
    ``interjection`` {``enable`` bool, ``frequency`` seconds > 0}}.
    Seconds are numbers >= 0. A key whose value is ``None`` counts as absent (so
    ``"outbound_caller_id": conv.caller_number`` works when there is no caller number).
    Any other key, anywhere, is refused. ``dtmf.timeout`` is not in 004's table but is
    in 003's ``listen`` example, which must keep running unchanged; 004 does not say it
    was removed, so it is accepted and passed through as given.

Combining the return with recorded effects
------------------------------------------

1. The return value wins over an effect for the same key.
2. ``variant``: the returned ``variant`` if any, else the last ``conv.set_variant(name)``.
3. ``voice``: only from ``conv.set_voice(...)``; a return value cannot carry a voice.
4. ``handoff``: a returned ``handoff`` replaces ``conv.call_handoff(...)`` entirely,
   including its utterance. Otherwise ``call_handoff`` gives ``handoff`` =
   {``destination``, ``reason``} (those given; ``{}`` means the default destination),
   and its ``utterance`` becomes the action's ``utterance`` unless the return has one.

The action holds only the keys present, in the order of ``sandbox.result.ACTION_KEYS``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any

from sandbox.errors import InvalidInput, InvalidReturn
from sandbox.plaindata import MAX_DEPTH, MAX_INT_BITS, canonical, check_plain, plain_copy, state_changes  # noqa: F401 - MAX_*, canonical, state_changes: this module's API since before
from sandbox.plaindata import (
    NotPlain as _Bad,  # a failed check; the public functions re-raise it as InvalidInput or InvalidReturn
)
from sandbox.plaindata import finite as _finite
from sandbox.plaindata import join as _join
from sandbox.plaindata import key as _key
from sandbox.plaindata import kind as _kind
from sandbox.plaindata import utf8 as _utf8
from sandbox.result import ACTION_KEYS, LOG_LEVELS

_SIP_TOKEN = re.compile(r"[A-Za-z0-9\-.!%*_+`'~]+")  # RFC 3261 "token", the header-name syntax
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_DTMF_KEYS = frozenset("0123456789*#")

Validator = Callable[[Any, str], Any]


def _quoted(names: Iterable[str]) -> str:
    return ", ".join(names)


def _object(value: Any, field: str) -> dict[Any, Any]:
    if type(value) is not dict:
        raise _Bad(field, f"must be a dict, got {_kind(value)}")
    return value


# -- scalar validators: (value, field) -> normalized value -----------------------------


def _text(value: Any, field: str) -> str:
    if type(value) is not str:
        raise _Bad(field, f"must be a str, got {_kind(value)}")
    return _utf8(value, field)


def _sip_text(value: Any, field: str) -> str:
    text = _text(value, field)
    if _CONTROL.search(text):
        raise _Bad(field, "must not contain control characters (CR, LF, NUL, ...)")
    return text


def _route(value: Any, field: str) -> str:
    text = _sip_text(value, field)
    if not text:
        raise _Bad(field, "must not be empty")
    return text


def _flag(value: Any, field: str) -> bool:
    if type(value) is not bool:
        raise _Bad(field, f"must be a bool (True or False), got {_kind(value)}")
    return value


def _number(value: Any, field: str) -> int | float:
    if type(value) is float:
        return _finite(value, field)
    if type(value) is not int:
        raise _Bad(field, f"must be a number (int or float), got {_kind(value)}")
    return value


def _seconds(value: Any, field: str) -> int | float:
    number = _number(value, field)
    if number < 0:
        raise _Bad(field, f"must be >= 0 seconds, got {number!r}")
    return number


def _positive_seconds(value: Any, field: str) -> int | float:
    number = _number(value, field)
    if number <= 0:
        raise _Bad(field, f"must be > 0 seconds, got {number!r}")
    return number


def _unit(value: Any, field: str) -> int | float:
    number = _number(value, field)
    if not 0 <= number <= 1:
        raise _Bad(field, f"must be from 0.0 to 1.0, got {number!r}")
    return number


def _count(minimum: int) -> Validator:
    def check(value: Any, field: str) -> int:
        if type(value) is not int:
            raise _Bad(field, f"must be an int, got {_kind(value)}")
        if value < minimum:
            raise _Bad(field, f"must be >= {minimum}, got {value}")
        return value

    return check


def _choice(*options: str) -> Validator:
    def check(value: Any, field: str) -> str:
        if type(value) is not str or value not in options:
            shown = repr(value) if type(value) is str else _kind(value)
            raise _Bad(field, f"must be one of {_quoted(map(repr, options))}, got {shown}")
        return value

    return check


def _finish_key(value: Any, field: str) -> str:
    text = _text(value, field)
    if text and text not in _DTMF_KEYS:
        raise _Bad(field, f'must be one DTMF key (0-9, * or #) or "", got {text!r}')
    return text


def _text_list(value: Any, field: str) -> list[str]:
    if type(value) is not list:
        raise _Bad(field, f"must be a list of str, got {_kind(value)}")
    return [_text(item, f"{field}[{i}]") for i, item in enumerate(value)]


def _map_of(check: Validator, what: str) -> Validator:
    def validate(value: Any, field: str) -> dict[str, Any]:
        if type(value) is not dict:
            raise _Bad(field, f"must be a dict of str to {what}, got {_kind(value)}")
        return {_key(key, field): check(item, _join(field, key)) for key, item in value.items()}

    return validate


def _sip_headers(value: Any, field: str) -> dict[str, str]:
    headers = _object(value, field)
    seen: dict[str, str] = {}
    out: dict[str, str] = {}
    for name, item in headers.items():
        here = _join(field, name) if type(name) is str else field
        if type(name) is not str or not _SIP_TOKEN.fullmatch(name):
            raise _Bad(here, "not a valid SIP header name (letters, digits and -.!%*_+`'~ only)")
        folded = name.lower()
        if folded in seen:
            raise _Bad(here, f"the same header as {seen[folded]!r} (SIP header names ignore case)")
        seen[folded] = name
        out[name] = _sip_text(item, here)
    return out


# -- records: dicts with a fixed set of keys -------------------------------------------


def _record(
    spec: Mapping[str, Validator], *, what: str, required: tuple[str, ...] = ()
) -> Callable[[Any, str], dict[str, Any]]:
    """A validator for a dict whose keys come from ``spec``. ``None`` values count as absent."""

    def validate(value: Any, field: str) -> dict[str, Any]:
        given = _object(value, field)
        out: dict[str, Any] = {}
        for key, item in given.items():
            if type(key) is not str:
                raise _Bad(field, f"keys must be str, got {_kind(key)}")
            if key not in spec:
                raise _Bad(_join(field, key), f"unknown key; {what} takes: {_quoted(spec)}")
            if item is not None:
                out[key] = spec[key](item, _join(field, key))
        for key in required:
            if key not in out:
                raise _Bad(_join(field, key), "required")
        return out

    return validate


_ASR = _record(
    {
        "timeout": _seconds,
        "keywords": _text_list,
        "custom_biases": _map_of(_number, "number"),
        "fields": _text_list,
        "corrections": _map_of(_text, "str"),
    },
    what="asr",
)

_DTMF = _record(
    {
        "num_digits": _count(1),
        "first_digit_timeout": _seconds,
        "inter_digit_timeout": _seconds,
        "finish_on_key": _finish_key,
        "early_listening": _flag,
        "is_pii": _flag,
        "timeout": _seconds,  # only in 003's example; kept so that example runs unchanged
    },
    what="dtmf",
)

_LISTEN = _record(
    {
        "listen": _flag,
        "delayed_response": _flag,
        "asr": _ASR,
        "dtmf": _DTMF,
        "channel": _choice("SPEECH", "DTMF", "SPEECH_AND_DTMF"),
        "barge_in": _record({"is_enabled": _flag, "interruption_window": _seconds}, what="barge_in"),
        "smart_vad": _record(
            {"is_enabled": _flag, "max_extensions": _count(0), "max_extension_duration": _seconds}, what="smart_vad"
        ),
        "interjection": _record({"enable": _flag, "frequency": _positive_seconds}, what="interjection"),
    },
    what="listen",
)

_SIP_METHODS = {
    "refer": _record({"phone_number": _route, "sip_headers": _sip_headers}, what="refer", required=("phone_number",)),
    "invite": _record(
        {
            "phone_number": _route,
            "outbound_caller_id": _sip_text,
            "outbound_endpoint": _sip_text,
            "sip_headers": _sip_headers,
        },
        what="invite",
        required=("phone_number",),
    ),
    "bye": _record({"sip_headers": _sip_headers}, what="bye"),
}

_HANDOFF_FIELDS = _record({"type": _route, "reason": _route, **_SIP_METHODS}, what="handoff")


def _handoff(value: Any, field: str) -> dict[str, Any]:
    handoff = _HANDOFF_FIELDS(value, field)
    methods = [name for name in _SIP_METHODS if name in handoff]
    if len(methods) != 1:
        got = " and ".join(methods) if methods else "none"
        raise _Bad(field, f"needs exactly one of refer, invite, bye; got {got}")
    return handoff


# -- what the tool returned ------------------------------------------------------------


def _variant_name(value: Any, field: str, variants: Mapping[str, Any]) -> str:
    name = _text(value, field)
    if variants and name not in variants:
        known = sorted(variants)
        shown = _quoted(map(repr, known[:20])) + (", ..." if len(known) > 20 else "")
        raise _Bad(field, f"unknown variant {name!r}; known variants: {shown}")
    return name


_RETURN_FIELDS: dict[str, Validator] = {
    "content": _text,
    "utterance": _text,
    "handoff": _handoff,
    "hangup": _flag,
    "listen": _LISTEN,
}
_RETURN_KEYS = ("content", "utterance", "handoff", "hangup", "listen", "variant")


def _action_from_return(returned: Any, variants: Mapping[str, Any]) -> dict[str, Any]:
    if returned is None or returned == "":
        return {}
    if type(returned) is str:
        return {"content": _utf8(returned, "return")}
    if type(returned) is not dict:
        raise _Bad("return", f"must be a str, a dict or None, got {_kind(returned)}")
    action: dict[str, Any] = {}
    for key, value in returned.items():
        if type(key) is not str:
            raise _Bad("return", f"keys must be str, got {_kind(key)}")
        if key not in _RETURN_KEYS:
            hint = " (set a voice with conv.set_voice)" if key == "voice" else ""
            raise _Bad(_join("", key), f"unknown key{hint}; a return dict takes: {_quoted(_RETURN_KEYS)}")
        if value is None:
            continue
        if key == "variant":
            action[key] = _variant_name(value, key, variants)
        else:
            action[key] = _RETURN_FIELDS[key](value, key)
    return action


# -- what the tool recorded through conv ------------------------------------------------

_VOICE_KINDS: dict[str, Validator] = {"str": _text, "number": _number, "unit": _unit}
# provider -> parameter -> kind. A copy of the table in sandbox/child/voice.py, kept
# here because the supervisor does not trust (or import) code that runs in the child;
# tests/test_normalize.py checks the two agree.
VOICE_PARAMETERS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "cartesia": {
            "provider_voice_id": "str",
            "model_id": "str",
            "speed": "number",
            "volume": "number",
            "emotion": "str",
            "language": "str",
        },
        "elevenlabs": {
            "provider_voice_id": "str",
            "model_id": "str",
            "stability": "unit",
            "similarity_boost": "unit",
            "speed": "number",
            "style": "unit",
            "clarity": "number",
            "latency_mode": "str",
        },
        "playht": {"provider_voice_id": "str", "model_id": "str", "speed": "number"},
        "rime": {"provider_voice_id": "str", "model_id": "str", "speed": "number"},
    }
)


def _voice(value: Any, field: str) -> dict[str, Any]:
    voice = _object(value, field)
    provider = voice.get("provider")
    if type(provider) is not str or provider not in VOICE_PARAMETERS:
        raise _Bad(_join(field, "provider"), f"must be one of {_quoted(map(repr, VOICE_PARAMETERS))}")
    spec = {name: _VOICE_KINDS[kind] for name, kind in VOICE_PARAMETERS[provider].items()}
    spec["provider"] = _text
    checked = _record(spec, what=f"a {provider} voice", required=("provider_voice_id",))(voice, field)
    _route(checked["provider_voice_id"], _join(field, "provider_voice_id"))
    return checked


_CALL_HANDOFF = _record({"destination": _route, "reason": _route, "utterance": _text}, what="call_handoff")
_EFFECT_FIELDS = {"variant": "set_variant", "voice": "set_voice", "handoff": "call_handoff"}


def _recorded_effects(effects: Any, variants: Mapping[str, Any]) -> dict[str, Any]:
    if effects is None:
        return {}
    given = _object(effects, "effects")
    out: dict[str, Any] = {}
    for key, value in given.items():
        if key not in _EFFECT_FIELDS:
            raise _Bad(_join("effects", str(key)), f"unknown effect; effects are: {_quoted(_EFFECT_FIELDS)}")
        field = _EFFECT_FIELDS[key]
        if key == "variant":
            out[key] = _variant_name(value, field, variants)
        elif key == "voice":
            out[key] = _voice(value, field)
        else:
            out[key] = _CALL_HANDOFF(value, field)
    return out


def _combine(action: dict[str, Any], recorded: dict[str, Any]) -> dict[str, Any]:
    """Apply the combination rules of the module docstring."""
    if "variant" in recorded and "variant" not in action:
        action["variant"] = recorded["variant"]
    if "voice" in recorded:
        action["voice"] = recorded["voice"]
    if "handoff" in recorded and "handoff" not in action:
        call_handoff = recorded["handoff"]
        action["handoff"] = {key: call_handoff[key] for key in ("destination", "reason") if key in call_handoff}
        if "utterance" in call_handoff and "utterance" not in action:
            action["utterance"] = call_handoff["utterance"]
    return {key: action[key] for key in ACTION_KEYS if key in action}


def normalize_action(returned: Any, effects: Any, variants: Mapping[str, Any]) -> dict[str, Any]:
    """The validated ``action`` for a call: the tool's return value combined with the
    effects its ``conv`` recorded. ``variants`` is the call's validated variant table
    (only its names are used). Raises ``InvalidReturn`` naming the field."""
    try:
        action = _action_from_return(returned, variants)
        recorded = _recorded_effects(effects, variants)
    except _Bad as bad:
        raise InvalidReturn(bad.field, bad.message) from None
    return _combine(action, recorded)


def normalize_state(state: Any, *, owned: bool = False) -> dict[str, Any]:
    """The state the child exported, validated; ``InvalidReturn`` names a bad value.

    A copy, unless ``owned``: the caller parsed ``state`` from the reply itself and nobody
    else holds it (``sandbox.supervisor.verdict``), so the checked value is returned as it is."""
    try:
        state = _object(state, "state")
        checked: dict[str, Any] = check_plain(state, "state") if owned else plain_copy(state, "state")
        return checked
    except _Bad as bad:
        raise InvalidReturn(bad.field, bad.message) from None


def normalize_logs(records: Any) -> list[dict[str, str]]:
    """The child's ``[[level, message], ...]`` as the result's ``[{level, message}]``."""
    try:
        if type(records) is not list:
            raise _Bad("logs", f"must be a list, got {_kind(records)}")
        return [_log_record(record, f"logs[{i}]") for i, record in enumerate(records)]
    except _Bad as bad:
        raise InvalidReturn(bad.field, bad.message) from None


def _log_record(record: Any, field: str) -> dict[str, str]:
    if type(record) is not list or len(record) != 2:
        raise _Bad(field, "must be a [level, message] pair")
    level, message = record
    return {"level": _choice(*LOG_LEVELS)(level, f"{field}[0]"), "message": _text(message, f"{field}[1]")}


# -- what the caller sends ---------------------------------------------------------------

_SECRET_NAME_MAX = 256
_TEXT_OR_NONE = ("env", "channel_type", "caller_number", "callee_number")
CONVERSATION_KEYS = (
    "state",
    "env",
    "channel_type",
    "caller_number",
    "callee_number",
    "sip_headers",
    "integration_attributes",
    "variants",
    "variant",
    "secrets",
)


def validate_conversation(data: Any, *, owned: bool = False) -> dict[str, Any]:
    """The caller's conv.json-style input, validated, copied and with every key filled.
    ``owned``: ``data`` was just parsed from JSON by the caller, who alone holds it, so
    its plain data (state, attributes, variant columns) is checked where it lies, not copied.

    Absent (or ``None``) keys default to: ``state``, ``sip_headers``,
    ``integration_attributes``, ``variants``, ``secrets`` -> ``{}``; ``env``,
    ``channel_type``, ``caller_number``, ``callee_number``, ``variant`` -> ``None``.
    ``variant`` must name a configured variant when any are configured. The result
    includes ``secrets``; the caller of this function decides where they travel.
    Raises ``InvalidInput`` naming the field; secret values never appear in messages.
    """
    try:
        return _conversation(data, check_plain if owned else plain_copy)
    except _Bad as bad:
        raise InvalidInput(bad.field, bad.message) from None


def _conversation(data: Any, plain: Callable[[Any, str], Any]) -> dict[str, Any]:
    given = {} if data is None else _object(data, "conv")
    for key in given:
        if key not in CONVERSATION_KEYS:
            shown = key if type(key) is str else _kind(key)
            raise _Bad(_join("conv", shown), f"unknown key; conv takes: {_quoted(CONVERSATION_KEYS)}")
    out: dict[str, Any] = {"state": plain(_object(_given(given, "state"), "conv.state"), "conv.state")}
    for key in _TEXT_OR_NONE:
        value = given.get(key)
        out[key] = None if value is None else _text(value, f"conv.{key}")
    out["sip_headers"] = _sip_headers(_given(given, "sip_headers"), "conv.sip_headers")
    attributes = _object(_given(given, "integration_attributes"), "conv.integration_attributes")
    out["integration_attributes"] = plain(attributes, "conv.integration_attributes")
    out["variants"] = _variants(_given(given, "variants"), "conv.variants", plain)
    variant = given.get("variant")
    out["variant"] = None if variant is None else _variant_name(variant, "conv.variant", out["variants"])
    out["secrets"] = _secrets(_given(given, "secrets"), "conv.secrets")
    return out


def _given(data: dict[str, Any], key: str) -> Any:
    """``data[key]``, with an absent or ``None`` mapping key read as ``{}``."""
    value = data.get(key)
    return {} if value is None else value


def _variants(value: Any, field: str, plain: Callable[[Any, str], Any]) -> dict[str, dict[str, Any]]:
    variants = _object(value, field)
    out: dict[str, dict[str, Any]] = {}
    for name, columns in variants.items():
        _key(name, field)
        if not name:
            raise _Bad(field, "a variant name must not be empty")
        here = _join(field, name)
        out[name] = plain(_object(columns, here), here)
    return out


def _secrets(value: Any, field: str) -> dict[str, str]:
    secrets = _object(value, field)
    out: dict[str, str] = {}
    for name, secret in secrets.items():
        _key(name, field)
        if not name or len(name) > _SECRET_NAME_MAX:
            raise _Bad(
                field, f"secret name {name!r} must be a non-empty string of at most {_SECRET_NAME_MAX} characters"
            )
        if type(secret) is not str:
            # Say what the value is, never what it holds.
            raise _Bad(_join(field, name), f"must be a str, got {_kind(secret)}")
        out[name] = _utf8(secret, _join(field, name))
    return out


def validate_args(args: Any) -> dict[str, Any] | list[Any]:
    """The tool's arguments: a JSON object (keyword arguments) or array (positional
    ones), validated and copied; ``None`` means no arguments (``{}``)."""
    try:
        if args is None:
            return {}
        if type(args) is not dict and type(args) is not list:
            raise _Bad("args", f"must be a JSON object or array, got {_kind(args)}")
        copied: dict[str, Any] | list[Any] = plain_copy(args, "args")  # a copy of the dict or list
        return copied
    except _Bad as bad:
        raise InvalidInput(bad.field, bad.message) from None
