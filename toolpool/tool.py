"""What a tool sees, as types for editors and type checkers: ``conv``, ``log``, the return dict.

A tool imports these only for its editor, under ``if TYPE_CHECKING:``::

    from __future__ import annotations

    from typing import TYPE_CHECKING

    if TYPE_CHECKING:  # for the editor: this import never runs
        from toolpool.tool import Conversation, ToolReturn, log

    def start_function(conv: Conversation) -> ToolReturn:
        conv.state.greeted = True
        log.info("greeted")
        return {"utterance": "Hello!"}

The sandbox compiles that block and never runs it (``from __future__ import annotations``
keeps the annotations from being evaluated too), so the same file deploys unchanged: at
run time ``conv``, ``log`` and ``Conversation`` are the runtime's own objects
(``sandbox/child/conv.py``, ``logs.py``, ``voice.py``), which these types describe.
The voice classes come from ``polyai.voice`` at run time; for the editor, import them
from here under ``TYPE_CHECKING`` and from ``polyai.voice`` in an ``else:`` branch.

This module has no behaviour: the classes are ``Protocol``s and ``TypedDict``s, and
``log`` is a declaration only. It is never loaded in the sandbox and trusts nothing.
``tests/toolpool/test_tool_stub.py`` type-checks the starter tool against it with mypy,
and holds ``ToolReturn``'s keys to the keys the supervisor accepts.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal, Protocol, TypedDict

# -- conv.state ---------------------------------------------------------------------------

StateValue = dict[str, Any] | list[Any] | tuple[Any, ...] | str | int | float | bool | None
"""What a state variable may hold: plain data (a tuple is stored as a list)."""


class State(Protocol):
    """``conv.state``: the conversation's variables.

    ``conv.state.x``, ``conv.state["x"]`` and ``conv.state.get("x", default)`` read; a
    variable never set reads as ``None``. Assign with ``conv.state.x = v`` or
    ``conv.state["x"] = v`` (plain data only: an unstorable value raises
    ``UnstorableValue``, a ``TypeError``), delete with ``del``. ``get`` is the only
    method: every other name is a variable.
    """

    # Keys the platform sends with the state; ordinary variables otherwise.
    from_: str | None
    to: str | None
    call_sid: str | None
    asr_lang_code: str | None
    tts_lang_code: str | None
    shared_id: str | None
    handoff: Any
    disable_recordings: bool | None
    stop_recording: bool | None
    use_tts_for_responses: bool | None
    asr_provider: str | None
    asr_config: Any
    listen_for_sms: bool | None

    def get(self, key: str, default: Any = None) -> Any: ...
    def __getattr__(self, name: str) -> Any: ...
    def __setattr__(self, name: str, value: StateValue) -> None: ...
    def __delattr__(self, name: str) -> None: ...
    def __getitem__(self, key: str) -> Any: ...
    def __setitem__(self, key: str, value: StateValue) -> None: ...
    def __delitem__(self, key: str) -> None: ...
    def __contains__(self, key: object) -> bool: ...
    def __iter__(self) -> Iterator[str]: ...
    def __len__(self) -> int: ...


# -- read-only mappings ---------------------------------------------------------------------


class SipHeaders(Protocol):
    """``conv.sip_headers``: read-only; lookups ignore case, as SIP header names do."""

    def get(self, name: str, default: str | None = None) -> str | None: ...
    def keys(self) -> list[str]: ...
    def values(self) -> list[str]: ...
    def items(self) -> list[tuple[str, str]]: ...
    def __getitem__(self, name: str) -> str: ...
    def __contains__(self, name: object) -> bool: ...
    def __iter__(self) -> Iterator[str]: ...
    def __len__(self) -> int: ...


class IntegrationAttributes(Protocol):
    """``conv.integration_attributes``: read-only; only ``start_function`` gets one."""

    def get(self, key: str, default: Any = None) -> Any: ...
    def keys(self) -> list[str]: ...
    def values(self) -> list[Any]: ...
    def items(self) -> list[tuple[str, Any]]: ...
    def __getitem__(self, key: str) -> Any: ...
    def __contains__(self, key: object) -> bool: ...
    def __iter__(self) -> Iterator[str]: ...
    def __len__(self) -> int: ...


class Variant(Protocol):
    """One variant: its columns are attributes (``conv.variant.site_name``); a missing
    column reads as ``None``. Read-only."""

    def __getattr__(self, column: str) -> Any: ...
    def __getitem__(self, column: str) -> Any: ...
    def __contains__(self, column: object) -> bool: ...


class Variants(Protocol):
    """``conv.variants``: variant name -> ``Variant``, read-only."""

    def get(self, name: str, default: Variant | None = None) -> Variant | None: ...
    def keys(self) -> list[str]: ...
    def values(self) -> list[Variant]: ...
    def items(self) -> list[tuple[str, Variant]]: ...
    def __getitem__(self, name: str) -> Variant: ...
    def __contains__(self, name: object) -> bool: ...
    def __iter__(self) -> Iterator[str]: ...
    def __len__(self) -> int: ...


class Utils(Protocol):
    """``conv.utils``."""

    def get_secret(self, name: str) -> str:
        """The calling tenant's secret ``name``; a missing one raises ``SecretNotFound``
        (a ``KeyError``). Its value is redacted from logs, errors and tracebacks."""
        ...


# -- voices (polyai.voice) --------------------------------------------------------------------


class Voice:
    """Base of the ``polyai.voice`` classes: keyword arguments only, immutable; unset
    optional parameters read as ``None``."""

    provider: str
    provider_voice_id: str
    model_id: str | None


class CartesiaVoice(Voice):
    def __init__(
        self,
        *,
        provider_voice_id: str,
        model_id: str | None = None,
        speed: float | None = None,
        volume: float | None = None,
        emotion: str | None = None,
        language: str | None = None,
    ) -> None: ...


class ElevenLabsVoice(Voice):
    def __init__(
        self,
        *,
        provider_voice_id: str,
        model_id: str | None = None,
        stability: float | None = None,
        similarity_boost: float | None = None,
        speed: float | None = None,
        style: float | None = None,
        clarity: float | None = None,
        latency_mode: str | None = None,
    ) -> None: ...


class PlayHTVoice(Voice):
    def __init__(self, *, provider_voice_id: str, model_id: str | None = None, speed: float | None = None) -> None: ...


class RimeVoice(Voice):
    def __init__(self, *, provider_voice_id: str, model_id: str | None = None, speed: float | None = None) -> None: ...


# -- conv ----------------------------------------------------------------------------------------


class Conversation(Protocol):
    """``conv``, the first argument of every tool function."""

    @property
    def state(self) -> State: ...
    @property
    def env(self) -> str | None: ...
    @property
    def channel_type(self) -> str | None: ...
    @property
    def caller_number(self) -> str | None: ...
    @property
    def callee_number(self) -> str | None: ...
    @property
    def sip_headers(self) -> SipHeaders: ...
    @property
    def integration_attributes(self) -> IntegrationAttributes | None: ...
    @property
    def variants(self) -> Variants: ...
    @property
    def variant(self) -> Variant | None: ...
    @property
    def utils(self) -> Utils: ...

    def set_variant(self, name: str) -> None:
        """Switch variant (the ``variant`` action). With variants configured, an unknown
        name raises ``UnknownVariant`` listing the known ones."""
        ...

    def set_voice(self, voice: Voice) -> None:
        """Use ``voice`` (a ``polyai.voice`` instance) for TTS from now on (the ``voice`` action)."""
        ...

    def call_handoff(
        self, destination: str | None = None, reason: str | None = None, utterance: str | None = None
    ) -> None:
        """Record a handoff (the ``handoff`` action, and ``utterance``)."""
        ...


class Log(Protocol):
    """The global ``log``; ``print(...)`` goes to ``info``. Secrets are redacted."""

    def debug(self, message: object) -> None: ...
    def info(self, message: object) -> None: ...
    def warning(self, message: object) -> None: ...
    def error(self, message: object) -> None: ...


log: Log
"""The runtime's global ``log`` (a declaration for editors: import it under TYPE_CHECKING)."""


# -- what a tool returns ------------------------------------------------------------------------


class Asr(TypedDict, total=False):
    timeout: float
    keywords: list[str]
    custom_biases: dict[str, float]
    fields: list[str]
    corrections: dict[str, str]


class Dtmf(TypedDict, total=False):
    num_digits: int
    first_digit_timeout: float
    inter_digit_timeout: float
    finish_on_key: str
    early_listening: bool
    is_pii: bool
    timeout: float


class BargeIn(TypedDict, total=False):
    is_enabled: bool
    interruption_window: float


class SmartVad(TypedDict, total=False):
    is_enabled: bool
    max_extensions: int
    max_extension_duration: float


class Interjection(TypedDict, total=False):
    enable: bool
    frequency: float


class Listen(TypedDict, total=False):
    """The ``listen`` key of a tool's return."""

    listen: bool
    delayed_response: bool
    asr: Asr
    dtmf: Dtmf
    channel: Literal["SPEECH", "DTMF", "SPEECH_AND_DTMF"]
    barge_in: BargeIn
    smart_vad: SmartVad
    interjection: Interjection


class Refer(TypedDict, total=False):
    phone_number: str  # required
    sip_headers: dict[str, str]


class Invite(TypedDict, total=False):
    phone_number: str  # required
    outbound_caller_id: str | None
    outbound_endpoint: str | None
    sip_headers: dict[str, str]


class Bye(TypedDict, total=False):
    sip_headers: dict[str, str]


class Handoff(TypedDict, total=False):
    """The ``handoff`` key of a tool's return: ``type``/``reason`` and exactly one of
    ``refer``, ``invite``, ``bye``."""

    type: str
    reason: str
    refer: Refer
    invite: Invite
    bye: Bye


class ToolReturn(TypedDict, total=False):
    """A tool's return as a dict (a tool may also return a ``str``, the ``content``, or
    ``None``). A key whose value is ``None`` counts as absent; any other key is refused
    with status ``invalid_return``. The voice comes only from ``conv.set_voice``."""

    content: str
    utterance: str
    handoff: Handoff
    hangup: bool
    listen: Listen
    variant: str


__all__ = [
    "Asr",
    "BargeIn",
    "Bye",
    "CartesiaVoice",
    "Conversation",
    "Dtmf",
    "ElevenLabsVoice",
    "Handoff",
    "IntegrationAttributes",
    "Interjection",
    "Invite",
    "Listen",
    "Log",
    "PlayHTVoice",
    "Refer",
    "RimeVoice",
    "SipHeaders",
    "SmartVad",
    "State",
    "StateValue",
    "ToolReturn",
    "Utils",
    "Variant",
    "Variants",
    "Voice",
    "log",
]
