"""``polyai.voice`` as a tool sees it: TTS voice classes for ``conv.set_voice``.

Runs in the confined child. A tool writes::

    from polyai.voice import CartesiaVoice
    conv.set_voice(CartesiaVoice(provider_voice_id="your-voice-id"))

Each class takes keyword arguments only. ``provider_voice_id`` (a non-empty str) is
required; the other parameters are optional, and passing ``None`` is the same as
leaving one out. Values must be exact ``str`` or finite numbers (``int``/``float``,
never ``bool``): a voice holds plain data only, so the effect it becomes is plain too.

    class            provider     optional parameters
    CartesiaVoice    cartesia     model_id, speed, volume, emotion, language
    ElevenLabsVoice  elevenlabs   model_id, stability, similarity_boost, speed, style,
                                  clarity, latency_mode
    PlayHTVoice      playht       model_id, speed
    RimeVoice        rime         model_id, speed

Ranges are left to the provider (they differ per model), except ElevenLabs'
``stability``, ``similarity_boost`` and ``style``, documented as 0.0-1.0.
Cartesia's ``emotions=[Emotion(...)]`` form is not supported; use ``emotion="..."``.

Voices are immutable. ``conv.set_voice`` accepts only instances of these exact
classes and records ``voice._plain()``, e.g.
``{"provider": "cartesia", "provider_voice_id": "...", "speed": 0.0}``. The supervisor
validates that dict again against its own copy of this table (``sandbox/supervisor/normalize.py``).

``VOICE_MODULE_NAMES`` is what the import guard exposes as the ``polyai.voice`` module.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from sandbox.child.values import type_name

TEXT = "str"
NUMBER = "number"
UNIT = "unit"  # a number from 0.0 to 1.0


class _Voice:
    """Base of the provider classes: validated, immutable plain parameters."""

    _PROVIDER = ""
    _PARAMETERS: Mapping[str, str] = MappingProxyType({})

    __slots__ = ("_fields",)

    def __init__(self, *args: Any, **parameters: Any):
        cls_name = type_name(type(self))
        if args:
            raise TypeError(f"{cls_name} takes keyword arguments only, e.g. {cls_name}(provider_voice_id=...)")
        fields: dict[str, Any] = {"provider": self._PROVIDER}
        for name, value in parameters.items():
            if type(name) is not str or name not in self._PARAMETERS:
                allowed = ", ".join(self._PARAMETERS)
                raise TypeError(f"{cls_name} got an unexpected keyword argument {name!r}; it takes: {allowed}")
            if value is not None:
                fields[name] = _checked(cls_name, name, self._PARAMETERS[name], value)
        if "provider_voice_id" not in fields:
            raise TypeError(f"{cls_name} needs provider_voice_id=...")
        if not fields["provider_voice_id"]:
            raise ValueError(f"{cls_name}: provider_voice_id must not be empty")
        object.__setattr__(self, "_fields", fields)

    def __getattr__(self, name: str) -> Any:
        # Only reached when normal lookup fails: unset optional parameters read as None.
        if name.startswith("_") or (name != "provider" and name not in self._PARAMETERS):
            raise AttributeError(f"{type_name(type(self))} has no attribute {name!r}")
        return self._fields.get(name)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type_name(type(self))} is immutable; make a new voice instead")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type_name(type(self))} is immutable; make a new voice instead")

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self._fields.items() if k != "provider")
        return f"{type_name(type(self))}({shown})"

    def _plain(self) -> dict[str, Any]:
        """The voice as plain data for the ``voice`` effect; a fresh dict."""
        return dict(self._fields)


def _checked(cls_name: str, name: str, kind: str, value: Any) -> Any:
    where = f"{cls_name}({name}=...)"
    if kind == TEXT:
        if type(value) is not str:
            raise TypeError(f"{where} must be a str, got {type_name(type(value))}")
        return value
    cls = type(value)
    if cls is not int and cls is not float:
        raise TypeError(f"{where} must be a number, got {type_name(type(value))}")
    if not math.isfinite(value):
        raise ValueError(f"{where} must be a finite number")
    if kind == UNIT and not 0.0 <= value <= 1.0:
        raise ValueError(f"{where} must be from 0.0 to 1.0, got {value!r}")
    return value


def _parameters(**kinds: str) -> Mapping[str, str]:
    return MappingProxyType({"provider_voice_id": TEXT, "model_id": TEXT, **kinds})


class CartesiaVoice(_Voice):
    """A Cartesia voice: ``CartesiaVoice(provider_voice_id=..., model_id=..., speed=...)``."""

    __slots__ = ()
    _PROVIDER = "cartesia"
    _PARAMETERS = _parameters(speed=NUMBER, volume=NUMBER, emotion=TEXT, language=TEXT)


class ElevenLabsVoice(_Voice):
    """An ElevenLabs voice: ``ElevenLabsVoice(provider_voice_id=..., stability=0.5, ...)``."""

    __slots__ = ()
    _PROVIDER = "elevenlabs"
    _PARAMETERS = _parameters(
        stability=UNIT, similarity_boost=UNIT, speed=NUMBER, style=UNIT, clarity=NUMBER, latency_mode=TEXT
    )


class PlayHTVoice(_Voice):
    """A PlayHT voice: ``PlayHTVoice(provider_voice_id=..., model_id=..., speed=...)``."""

    __slots__ = ()
    _PROVIDER = "playht"
    _PARAMETERS = _parameters(speed=NUMBER)


class RimeVoice(_Voice):
    """A Rime voice: ``RimeVoice(provider_voice_id=..., model_id=..., speed=...)``."""

    __slots__ = ()
    _PROVIDER = "rime"
    _PARAMETERS = _parameters(speed=NUMBER)


VOICE_CLASSES: tuple[type[_Voice], ...] = (CartesiaVoice, ElevenLabsVoice, PlayHTVoice, RimeVoice)

VOICE_MODULE_NAMES: Mapping[str, type[_Voice]] = MappingProxyType({cls.__name__: cls for cls in VOICE_CLASSES})
"""name -> class: the contents of the ``polyai.voice`` module a tool may import."""


def voice_effect(voice: Any) -> dict[str, Any]:
    """The plain ``voice`` effect for ``voice``, which must be one of ``VOICE_CLASSES`` exactly."""
    cls = type(voice)
    if not any(cls is known for known in VOICE_CLASSES):
        names = ", ".join(VOICE_MODULE_NAMES)
        raise TypeError(f"set_voice expects a voice from polyai.voice ({names}), got {type_name(cls)}")
    return _Voice._plain(voice)


def parameter_table() -> dict[str, dict[str, str]]:
    """provider -> {parameter: kind}; lets tests check the supervisor's copy agrees."""
    return {cls._PROVIDER: dict(cls._PARAMETERS) for cls in VOICE_CLASSES}
