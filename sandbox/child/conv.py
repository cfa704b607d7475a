"""The ``conv`` object a tool receives: ``def my_tool(conv: Conversation, ...)``.

Runs in the confined child, beside hostile tool code. It is built from the ``conv``
part of the request, which the supervisor has already validated
(``sandbox.supervisor.normalize.validate_conversation``), and from the tenant's secrets.
The tool holds the object itself, so everything it must not touch (raw dicts, the
secrets table, recorded effects) lives under underscore names, which RestrictedPython
the runtime's attribute guard refuses to tool code (private names are readable only on
what the tool defined). Only ``State`` accepts writes through the guard
(``register_writable``); every other class here is read-only.

What a tool sees (the platform's documented contract):

``conv.state``
    The conversation's variables. ``conv.state.x``, ``conv.state["x"]`` and
    ``conv.state.get("x", default=None)`` read a variable; a variable never set reads
    as ``None`` (no ``AttributeError``/``KeyError``), while ``"x" in conv.state`` is
    true only for a variable that was assigned, even to ``None``. Assign with
    ``conv.state.x = v`` or ``conv.state["x"] = v``; delete with ``del conv.state.x``
    or ``del conv.state["x"]`` (deleting a variable that is not set does nothing).
    ``for key in conv.state`` and ``len(conv.state)`` work. ``get`` is the only method:
    every other attribute name is a variable, so ``conv.state.items`` is the variable
    ``items`` (there is no ``.keys()``/``.items()``/``.values()``); a variable named
    ``get`` is reached as ``conv.state["get"]``.
    Values must be plain data (dict, list, tuple, str, int, float, bool, None). An
    assignment is checked at once and an unstorable value raises ``UnstorableValue``
    (a ``TypeError``) naming the variable. Nested values stay the real objects
    assigned, so ``conv.state.x["a"] = 1`` persists; they are checked again when the
    call ends (``_export_state``), which names the exact place of a bad value.
    The platform's built-in keys (``from_``, ``to``, ``call_sid``, ...) arrive in the
    given state and are ordinary variables here.
``conv.env``, ``conv.channel_type``, ``conv.caller_number``, ``conv.callee_number``
    Read-only strings, or ``None`` when the caller did not send them.
``conv.sip_headers``
    Read-only mapping of SIP header name to value; lookups ignore case, as SIP
    header names do (``conv.sip_headers.get("x-language")`` finds ``X-Language``).
``conv.integration_attributes``
    Read-only mapping in ``start_function``. The platform makes it readable only
    there, so in every other tool it is ``None`` (``if conv.integration_attributes:``
    then simply skips).
``conv.variants``, ``conv.variant``, ``conv.set_variant(name)``
    ``conv.variants`` maps each configured variant name to a read-only ``Variant``
    whose columns are attributes (``conv.variants["london"].site_name``); a missing
    column reads as ``None``. ``conv.variant`` is the current variant, or ``None``.
    ``set_variant(name)`` switches and records the ``variant`` effect. When variants
    are configured, an unknown name raises ``UnknownVariant`` (a ``ValueError``)
    listing the known ones. When none are configured (``conv.variants`` is empty),
    the name is recorded unchecked and left to the platform, so the documented
    ``conv.set_variant(site_map.get(conv.callee_number, "default"))`` runs anywhere;
    ``conv.variant`` then stays ``None``, as there are no columns to show.
``conv.set_voice(voice)``
    Takes a voice from ``polyai.voice`` and records the ``voice`` effect.
``conv.call_handoff(destination=None, reason=None, utterance=None)``
    Records a ``handoff`` effect: ``destination`` names a configured handoff
    destination (``None``: the default one), ``reason`` is a machine-readable code
    and ``utterance`` is said before the transfer. The last call wins.
``conv.utils.get_secret(name)``
    The tenant secret ``name``; a missing one raises ``SecretNotFound`` (a ``KeyError``).

For the runtime (underscore names, out of the tool's reach): ``conv._export_state()``,
``conv._export_changes()``, ``conv._effects()`` and ``conv._secrets_used()``.
"""

from __future__ import annotations

import marshal
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from sandbox.child.attributes import register_writable
from sandbox.child.values import MAX_DEPTH, UnstorableValue, same_plain, show_key, to_plain, type_name
from sandbox.child.voice import voice_effect

if TYPE_CHECKING:
    from sandbox.child.logs import Log

START_FUNCTION = "start_function"  # the same name as sandbox.policy.START_FUNCTION
_UNSET = object()
_KNOWN_NAMES_SHOWN = 20

__all__ = [
    "Conversation",
    "IntegrationAttributes",
    "ReadOnlyMapping",
    "SecretNotFound",
    "SipHeaders",
    "State",
    "UnknownVariant",
    "UnstorableValue",
    "Utils",
    "Variant",
    "Variants",
]


class SecretNotFound(KeyError):
    """``conv.utils.get_secret(name)`` for a secret the tenant has not configured."""

    def __init__(self, name: str):
        super().__init__(name)
        self.name = name
        self.message = f"secret {show_key(name)} is not configured for this tenant"

    def __str__(self) -> str:
        # KeyError.__str__ would show the repr of the argument instead of the message.
        return self.message


class UnknownVariant(ValueError):
    """``conv.set_variant(name)`` for a name that is not a configured variant."""

    def __init__(self, name: str, known: list[str]):
        shown = ", ".join(show_key(k) for k in known[:_KNOWN_NAMES_SHOWN])
        if len(known) > _KNOWN_NAMES_SHOWN:
            shown += f", ... ({len(known) - _KNOWN_NAMES_SHOWN} more)"
        super().__init__(f"unknown variant {show_key(name)}; known variants: {shown}")
        self.name = name


def _require_name(what: str, value: Any) -> str:
    if type(value) is not str:
        raise TypeError(f"{what} must be a str, got {type_name(type(value))}")
    return value


class State:
    """``conv.state``: the conversation's variables. See the module docstring."""

    __slots__ = ("_data",)

    def __init__(self, data: dict[str, Any]):
        object.__setattr__(self, "_data", data)

    def get(self, key: Any, default: Any = None) -> Any:
        """The variable ``key``, or ``default`` if it was never set (a stored ``None`` stays ``None``)."""
        data = self._data
        return data.get(key, default)

    def __getattr__(self, name: str) -> Any:
        # Only reached when normal lookup fails, i.e. for every name but ``get``.
        if name.startswith("_"):
            raise AttributeError(name)
        return self._data.get(name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            raise AttributeError(f"conv.state.{name}: use conv.state[{name!r}] for names starting with '_'")
        self._store(name, value)

    def __delattr__(self, name: str) -> None:
        self._data.pop(name, None)

    def __getitem__(self, key: Any) -> Any:
        return self._data.get(key)

    def __setitem__(self, key: Any, value: Any) -> None:
        self._store(key, value)

    def __delitem__(self, key: Any) -> None:
        self._data.pop(key, None)

    def __contains__(self, key: Any) -> bool:
        return key in self._data

    def __iter__(self) -> Iterator[str]:
        # A snapshot, so a loop may delete or add variables as it goes.
        return iter(list(self._data))

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"State({self._data!r})"

    def _store(self, key: Any, value: Any) -> None:
        if type(key) is not str and isinstance(key, str):
            key = str.__str__(key)  # a StrEnum member names the variable it spells
        if type(key) is not str:
            raise UnstorableValue("state", f"a variable name must be a str, got {type_name(type(key))}")
        # Checked now so the error points at the assignment; the value's nesting is
        # one level below the state dict, hence the depth.
        to_plain(value, f"state[{show_key(key)}]", max_depth=MAX_DEPTH - 1)
        self._data[key] = value


register_writable(State)  # conv.state.x = v: State.__setattr__ validates what it stores


class ReadOnlyMapping:
    """A read-only ``dict``-like view: ``[key]``, ``get``, ``in``, iteration, ``keys/values/items``."""

    __slots__ = ("_entries",)

    def __init__(self, items: Mapping[str, Any]):
        # For the checker; in the class body it would add an __annotations__.
        self._entries: dict[Any, tuple[str, Any]]  # folded key -> (key, value)
        entries = {self._fold(key): (key, value) for key, value in items.items()}
        object.__setattr__(self, "_entries", entries)

    @staticmethod
    def _fold(key: Any) -> Any:
        return key

    def _find(self, key: Any) -> tuple[str, Any] | None:
        if not issubclass(type(key), str):
            return None
        return self._entries.get(self._fold(str.__str__(key)))

    def get(self, key: Any, default: Any = None) -> Any:
        entry = self._find(key)
        return default if entry is None else entry[1]

    def keys(self) -> list[str]:
        return [key for key, _ in self._entries.values()]

    def values(self) -> list[Any]:
        return [value for _, value in self._entries.values()]

    def items(self) -> list[tuple[str, Any]]:
        return list(self._entries.values())

    def __getitem__(self, key: Any) -> Any:
        entry = self._find(key)
        if entry is None:
            raise KeyError(key)
        return entry[1]

    def __contains__(self, key: Any) -> bool:
        return self._find(key) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self._entries)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type_name(type(self))} is read-only")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type_name(type(self))} is read-only")

    def __repr__(self) -> str:
        return f"{type_name(type(self))}({dict(self.items())!r})"


class SipHeaders(ReadOnlyMapping):
    """``conv.sip_headers``. Header names are matched ignoring case, as SIP header names
    are case-insensitive: ``get("x-language")`` finds ``X-Language``. Iteration yields
    the names as the caller sent them."""

    __slots__ = ()

    @staticmethod
    def _fold(key: str) -> str:
        return key.lower()


class IntegrationAttributes(ReadOnlyMapping):
    """``conv.integration_attributes`` in ``start_function``: metadata from integrations."""

    __slots__ = ()


class Variants(ReadOnlyMapping):
    """``conv.variants``: variant name -> ``Variant``."""

    __slots__ = ()


class Variant:
    """One configured variant. Its columns are attributes (``variant.site_name``) and
    items (``variant["site name"]``); a missing column reads as ``None``. Read-only."""

    __slots__ = ("_columns",)

    def __init__(self, columns: Mapping[str, Any]):
        object.__setattr__(self, "_columns", dict(columns))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return self._columns.get(name)

    def __getitem__(self, column: Any) -> Any:
        return self._columns.get(column)

    def __contains__(self, column: Any) -> bool:
        return column in self._columns

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("variant columns are read-only")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("variant columns are read-only")

    def __repr__(self) -> str:
        return f"Variant({self._columns!r})"


class Utils:
    """``conv.utils``: ``get_secret(name)``. Remembers which secrets were fetched."""

    __slots__ = ("_secrets", "_used")

    def __init__(self, secrets: Mapping[str, str]):
        self._secrets: dict[str, str]  # for the checker; in the class body it would add an __annotations__
        self._used: list[str]
        object.__setattr__(self, "_secrets", dict(secrets))
        object.__setattr__(self, "_used", [])

    def get_secret(self, name: str) -> str:
        """The value of the tenant's secret ``name``; ``SecretNotFound`` if there is none."""
        name = _require_name("get_secret(name)", name)
        if name not in self._secrets:
            raise SecretNotFound(name)
        if name not in self._used:
            self._used.append(name)
        return self._secrets[name]

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("conv.utils is read-only")

    def __repr__(self) -> str:
        return "Utils()"


class Conversation:
    """The ``conv`` object. See the module docstring for what each member does.

    ``conv_data`` is the validated ``conv`` part of the request; ``function`` the name
    of the tool being called (it decides whether ``integration_attributes`` is
    readable); ``secrets`` the tenant's secrets by name. ``log`` is the call's ``Log``;
    it is accepted so the runtime wires one object graph, and ``conv`` writes nothing to
    it today. ``copy_state=False`` hands ``conv_data["state"]`` over to the tool as it is
    (plain data the caller owns and will not read again) instead of copying it.
    """

    __slots__ = (
        "_callee_number",
        "_caller_number",
        "_channel_type",
        "_env",
        "_integration_attributes",
        "_log",
        "_original",
        "_recorded",
        "_sip_headers",
        "_state",
        "_utils",
        "_variant_name",
        "_variants",
    )

    def __init__(
        self,
        conv_data: Mapping[str, Any],
        *,
        function: str,
        secrets: Mapping[str, str],
        log: Log | None = None,
        copy_state: bool = True,
    ):
        state = conv_data.get("state") or {}
        # A private deep copy, so that the tool's mutations never reach the request it came
        # from; unless the caller hands the state over (``copy_state=False``: the runtime's
        # request, decoded for this call alone, which nothing reads after the tool).
        if copy_state:
            state = to_plain(state, "state")
        self._state = State(state)
        # What the state was, for _export_changes: each variable's object (an untouched str
        # or number is still that very object), but for a container, which the tool may
        # change in place, a copy of it. Plain data from the request: marshal copies in C.
        self._original = dict(state)
        containers = {key: value for key, value in state.items() if type(value) is dict or type(value) is list}
        if containers:
            self._original.update(marshal.loads(marshal.dumps(containers)))
        self._env = conv_data.get("env")
        self._channel_type = conv_data.get("channel_type")
        self._caller_number = conv_data.get("caller_number")
        self._callee_number = conv_data.get("callee_number")
        self._sip_headers = SipHeaders(conv_data.get("sip_headers") or {})
        attributes = conv_data.get("integration_attributes") or {}
        self._integration_attributes = IntegrationAttributes(attributes) if function == START_FUNCTION else None
        variants = conv_data.get("variants") or {}
        self._variants = Variants({name: Variant(columns) for name, columns in variants.items()})
        self._variant_name = conv_data.get("variant")
        self._utils = Utils(secrets)
        self._log = log
        self._recorded: dict[str, Any] = {}

    # -- read-only members -------------------------------------------------------------

    @property
    def state(self) -> State:
        return self._state

    @property
    def env(self) -> str | None:
        return self._env

    @property
    def channel_type(self) -> str | None:
        return self._channel_type

    @property
    def caller_number(self) -> str | None:
        return self._caller_number

    @property
    def callee_number(self) -> str | None:
        return self._callee_number

    @property
    def sip_headers(self) -> SipHeaders:
        return self._sip_headers

    @property
    def integration_attributes(self) -> IntegrationAttributes | None:
        return self._integration_attributes

    @property
    def variants(self) -> Variants:
        return self._variants

    @property
    def variant(self) -> Variant | None:
        if self._variant_name is None:
            return None
        variant: Variant | None = self._variants.get(self._variant_name)  # a Variants holds Variant values
        return variant

    @property
    def utils(self) -> Utils:
        return self._utils

    # -- effects ---------------------------------------------------------------------

    def set_variant(self, name: str) -> None:
        """Switch to variant ``name``; unknown names raise when variants are configured."""
        name = _require_name("set_variant(name)", name)
        if len(self._variants) and name not in self._variants:
            raise UnknownVariant(name, self._variants.keys())
        self._variant_name = name
        self._recorded["variant"] = name

    def set_voice(self, voice: Any) -> None:
        """Use ``voice`` (a ``polyai.voice`` class instance) for TTS from now on."""
        self._recorded["voice"] = voice_effect(voice)

    def call_handoff(
        self, destination: str | None = None, reason: str | None = None, utterance: str | None = None
    ) -> None:
        """Hand the call off after this tool returns. Every argument is optional."""
        handoff: dict[str, str] = {}
        for what, value in (("destination", destination), ("reason", reason), ("utterance", utterance)):
            if value is not None:
                handoff[what] = _require_name(f"call_handoff({what}=...)", value)
        self._recorded["handoff"] = handoff

    def __repr__(self) -> str:
        return f"Conversation(env={self._env!r}, channel_type={self._channel_type!r})"

    # -- for the runtime -------------------------------------------------------------

    def _export_state(self) -> dict[str, Any]:
        """The state as plain data; ``UnstorableValue`` names the first bad value."""
        state: dict[str, Any] = to_plain(self._state._data, "state")
        return state

    def _export_changes(self) -> dict[str, Any]:
        """What the tool did to the state, as plain data: ``set`` (the variables it assigned
        or changed, in the state's order), ``deleted`` and, only when the state's order is
        not the original order less the deletions plus the new variables, ``order`` (every
        variable). ``UnstorableValue`` names the first bad value, as ``_export_state`` would:
        an unchanged variable is the request's plain data, so it cannot be one.

        The work is one identity check per untouched variable, a comparison with its copy
        per container, and a conversion of what changed: not an export of the whole state."""
        live, original = self._state._data, self._original
        # State keeps exact str keys (State._store). A variable still holding the very
        # object the request held is an untouched str, number or None; a container never is
        # (the original is a copy), so it is compared with that copy.
        maybe = {key: value for key, value in live.items() if original.get(key, _UNSET) is not value}
        changed = {
            key: value for key, value in maybe.items() if key not in original or not same_plain(value, original[key])
        }
        out: dict[str, Any] = {"set": to_plain(changed, "state"), "deleted": sorted(original.keys() - live.keys())}
        kept = [key for key in original if key in live] if out["deleted"] else list(original)
        order = list(live)
        if order[: len(kept)] != kept:
            out["order"] = order  # a variable deleted and set again: it moved to the end
        return out

    def _effects(self) -> dict[str, Any]:
        """Recorded effects, a fresh plain dict with keys among variant, voice, handoff."""
        effects: dict[str, Any] = to_plain(self._recorded, "effects")
        return effects

    def _secrets_used(self) -> list[str]:
        """Names of the secrets the tool fetched, in first-use order."""
        return list(self._utils._used)
