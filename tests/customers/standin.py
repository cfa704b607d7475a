"""A stand-in for the platform under plain CPython: the yardstick of the customer corpus.

This is a small, independent, plain-Python model of the contract documented in README.md
("The contract a tool is written against", "What a tool may return", "The result") and
in the platform's public pages (``../shared/seeds``). It imports nothing from
``sandbox/`` or ``worker/``: the point is to say what a tool *should* do, computed by
CPython, so the real sandbox can be compared with it.

Over 600 lines because it is one independent model of the whole contract, run as one
script: each call executes this file by path in a fresh interpreter, with its own folder
taken off ``sys.path`` so that nothing beside it can shadow what a tool imports; it reads
top to bottom against the README's sections.

Run as a script, it reads one request as JSON on stdin and writes one result as JSON on
stdout::

    {"tool": "/abs/path/NN_domain_what.py", "function": "start_function",
     "conv": {state, env, channel_type, caller_number, callee_number, sip_headers,
              integration_attributes, variants, variant, secrets},
     "args": {...} or [...],
     "resolve": {"api.example.test": "127.0.0.1"}}

    -> {"status", "action", "state", "state_changes", "logs": [{level, message}],
        "error": {kind, message, file, line, traceback} | null}

One request per process (the runner starts a fresh interpreter per call), so module
globals, caches and ``logging`` configuration never leak from one call into another.

What is modelled, and how (each point is the documented contract unless marked *choice*):

* ``conv``: state (attribute/item/``get`` reads, unset reads ``None``, ``in`` only for
  assigned keys, ``del``, iteration, ``len``; ``get`` is the only method; unstorable
  top-level values raise ``UnstorableValue``, a ``TypeError``; tuples are stored as
  lists), read-only ``env``/``channel_type``/``caller_number``/``callee_number``,
  case-insensitive ``sip_headers``, ``integration_attributes`` (``None`` outside
  ``start_function``), ``variants``/``variant``/``set_variant`` (``UnknownVariant``
  when variants are configured), ``set_voice``, ``call_handoff``,
  ``utils.get_secret`` (``SecretNotFound``, a ``KeyError``).
* ``log.debug/info/warning/error`` as a global, ``print`` to ``info`` (*choice*: the
  arguments joined by ``sep``, without ``end``), and ``logging``: every record from
  DEBUG up is captured through a handler on the root logger, as ``(level, message)``
  where the message is ``record.getMessage()``, followed for ``logger.exception`` and
  ``exc_info=True`` by the traceback of the tool's own frames (as the platform shows a
  traceback: its file by name, no runtime frames); CRITICAL maps to ``error``. The root logger already has that
  handler when the tool is imported, so a tool's ``logging.basicConfig(...)`` is the
  no-op it is in any configured application.
* ``polyai.voice``: ``CartesiaVoice``, ``PlayHTVoice``, ``RimeVoice``,
  ``ElevenLabsVoice``, keyword arguments only, ``provider_voice_id`` required; the
  ``voice`` effect is ``{"provider": ..., **given parameters}``.
* ``requests``: the documented subset over real HTTP with ``urllib``. Host names are
  resolved through the request's ``resolve`` table (the same table the sandbox run's
  egress policy uses), any other host is refused naming it. Each request is one log
  line ``http METHOD HOST STATUS TIME ms`` (``info``; a failed request is ``warning``).
* Secrets fetched with ``get_secret`` (4 characters or more) are redacted from logs and
  error messages as ``[REDACTED]``.
* The return value is normalized by README "What a tool may return" and combined with
  the recorded effects by "Combining the return with conv methods"; a bad return is
  ``invalid_return``. Any exception is ``runtime_error`` with the exception's type name
  as ``kind``. On any status but ``ok`` the state is the input state and
  ``state_changes`` is empty; logs written before the failure are kept.
"""

from __future__ import annotations

import base64
import http.client
import importlib.util
import json
import logging
import math
import socket
import sys
import time
import traceback
import types
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

START_FUNCTION = "start_function"
REDACTED = "[REDACTED]"
MIN_REDACTED_LEN = 4

# ---------------------------------------------------------------------------------------
# Errors a tool can see
# ---------------------------------------------------------------------------------------


class SecretNotFound(KeyError):
    """``conv.utils.get_secret(name)`` for a secret the tenant has not set."""

    def __init__(self, name: str):
        super().__init__(name)
        self.name = name

    def __str__(self) -> str:
        return f"secret {self.name!r} is not configured"


class UnknownVariant(ValueError):
    """``conv.set_variant(name)`` for a name that is not configured."""

    def __init__(self, name: str, known: list[str]):
        super().__init__(f"unknown variant {name!r}; known variants: {', '.join(map(repr, known))}")
        self.name = name


class UnstorableValue(TypeError):
    """A value that cannot be kept in the conversation's state."""


# ---------------------------------------------------------------------------------------
# Plain data: what state may hold
# ---------------------------------------------------------------------------------------


def to_plain(value: Any, where: str) -> Any:
    """A plain copy of ``value`` (tuples become lists), or ``UnstorableValue`` naming where."""
    if value is None or type(value) in (bool, int, str):
        return value
    if type(value) is float:
        if not math.isfinite(value):
            raise UnstorableValue(f"{where}: {value!r} cannot be stored; use a finite number")
        return value
    if type(value) in (list, tuple):
        return [to_plain(item, f"{where}[{i}]") for i, item in enumerate(value)]
    if type(value) is dict:
        out = {}
        for key, item in value.items():
            if type(key) is not str:
                raise UnstorableValue(f"{where}: a key of type {type(key).__name__} cannot be stored; use str keys")
            out[key] = to_plain(item, f"{where}[{key!r}]")
        return out
    kind = type(value).__name__
    hint = "; use a list" if isinstance(value, (set, frozenset)) else ""
    raise UnstorableValue(f"{where}: a {kind} cannot be stored{hint}")


def canonical(value: Any) -> str:
    """Equal text means the same JSON: ``1``, ``1.0`` and ``true`` differ; key order does not."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


# ---------------------------------------------------------------------------------------
# conv
# ---------------------------------------------------------------------------------------


class State:
    """``conv.state``: every attribute name but ``get`` is a variable."""

    def __init__(self, data: dict):
        object.__setattr__(self, "_data", data)

    def get(self, key, default=None):
        return self._data.get(key, default)

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return self._data.get(name)

    def __setattr__(self, name, value):
        self._store(name, value)

    def __delattr__(self, name):
        self._data.pop(name, None)

    def __getitem__(self, key):
        return self._data.get(key)

    def __setitem__(self, key, value):
        self._store(key, value)

    def __delitem__(self, key):
        self._data.pop(key, None)

    def __contains__(self, key):
        return key in self._data

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._data))

    def __len__(self):
        return len(self._data)

    def __repr__(self):
        return f"State({self._data!r})"

    def _store(self, key, value):
        if type(key) is not str:
            raise UnstorableValue(f"state: a variable name must be a str, got {type(key).__name__}")
        to_plain(value, f"state[{key!r}]")  # checked now, so the error points at the assignment
        self._data[key] = value


class ReadOnlyMapping:
    """A read-only mapping: ``[]``, ``get``, ``in``, iteration, ``keys/values/items``, ``len``."""

    _fold = staticmethod(lambda key: key)

    def __init__(self, items: Mapping):
        object.__setattr__(self, "_entries", {self._fold(k): (k, v) for k, v in items.items()})

    def _find(self, key):
        if not isinstance(key, str):
            return None
        return self._entries.get(self._fold(key))

    def get(self, key, default=None):
        entry = self._find(key)
        return default if entry is None else entry[1]

    def __getitem__(self, key):
        entry = self._find(key)
        if entry is None:
            raise KeyError(key)
        return entry[1]

    def __contains__(self, key):
        return self._find(key) is not None

    def keys(self):
        return [k for k, _ in self._entries.values()]

    def values(self):
        return [v for _, v in self._entries.values()]

    def items(self):
        return list(self._entries.values())

    def __iter__(self):
        return iter(self.keys())

    def __len__(self):
        return len(self._entries)

    def __bool__(self):
        return bool(self._entries)

    def __setattr__(self, name, value):
        raise AttributeError(f"{type(self).__name__} is read-only")

    def __setitem__(self, key, value):
        raise TypeError(f"{type(self).__name__} is read-only")

    def __repr__(self):
        return f"{type(self).__name__}({dict(self.items())!r})"


class SipHeaders(ReadOnlyMapping):
    _fold = staticmethod(lambda key: key.lower())


class IntegrationAttributes(ReadOnlyMapping):
    pass


class Variants(ReadOnlyMapping):
    pass


class Variant:
    """One variant: its columns are attributes and items; a missing column reads ``None``."""

    def __init__(self, columns: Mapping):
        object.__setattr__(self, "_columns", dict(columns))

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return self._columns.get(name)

    def __getitem__(self, column):
        return self._columns.get(column)

    def __contains__(self, column):
        return column in self._columns

    def __setattr__(self, name, value):
        raise AttributeError("variant columns are read-only")

    def __repr__(self):
        return f"Variant({self._columns!r})"


class Utils:
    def __init__(self, secrets: Mapping[str, str]):
        self._secrets = dict(secrets)
        self._used: list[str] = []

    def get_secret(self, name):
        if name not in self._secrets:
            raise SecretNotFound(name)
        if name not in self._used:
            self._used.append(name)
        return self._secrets[name]


class Conversation:
    """The ``conv`` a tool receives."""

    def __init__(self, data: Mapping, *, function: str):
        self._state = State(json.loads(json.dumps(data.get("state") or {})))
        self._env = data.get("env")
        self._channel_type = data.get("channel_type")
        self._caller_number = data.get("caller_number")
        self._callee_number = data.get("callee_number")
        self._sip_headers = SipHeaders(data.get("sip_headers") or {})
        attributes = data.get("integration_attributes") or {}
        self._integration_attributes = IntegrationAttributes(attributes) if function == START_FUNCTION else None
        self._variants = Variants({n: Variant(c) for n, c in (data.get("variants") or {}).items()})
        self._variant_name = data.get("variant")
        self._utils = Utils(data.get("secrets") or {})
        self._effects: dict[str, Any] = {}

    state = property(lambda self: self._state)
    env = property(lambda self: self._env)
    channel_type = property(lambda self: self._channel_type)
    caller_number = property(lambda self: self._caller_number)
    callee_number = property(lambda self: self._callee_number)
    sip_headers = property(lambda self: self._sip_headers)
    integration_attributes = property(lambda self: self._integration_attributes)
    variants = property(lambda self: self._variants)
    utils = property(lambda self: self._utils)

    @property
    def variant(self):
        if self._variant_name is None:
            return None
        return self._variants.get(self._variant_name)

    def set_variant(self, name):
        if not isinstance(name, str):
            raise TypeError(f"set_variant(name) must be a str, got {type(name).__name__}")
        if len(self._variants) and name not in self._variants:
            raise UnknownVariant(name, self._variants.keys())
        self._variant_name = name
        self._effects["variant"] = name

    def set_voice(self, voice):
        if not isinstance(voice, _Voice):
            raise TypeError(f"set_voice expects a voice from polyai.voice, got {type(voice).__name__}")
        self._effects["voice"] = dict(voice._fields)

    def call_handoff(self, destination=None, reason=None, utterance=None):
        handoff = {}
        for what, value in (("destination", destination), ("reason", reason), ("utterance", utterance)):
            if value is not None:
                if not isinstance(value, str):
                    raise TypeError(f"call_handoff({what}=...) must be a str, got {type(value).__name__}")
                handoff[what] = value
        self._effects["handoff"] = handoff

    def __repr__(self):
        return f"Conversation(env={self._env!r}, channel_type={self._channel_type!r})"


# ---------------------------------------------------------------------------------------
# polyai.voice
# ---------------------------------------------------------------------------------------


class _Voice:
    _PROVIDER = ""

    def __init__(self, *args, **parameters):
        name = type(self).__name__
        if args:
            raise TypeError(f"{name} takes keyword arguments only")
        fields = {"provider": self._PROVIDER}
        for key, value in parameters.items():
            if value is None:
                continue
            if type(value) not in (str, int, float) or (type(value) is float and not math.isfinite(value)):
                raise TypeError(f"{name}({key}=...) must be a str or a finite number")
            fields[key] = value
        if not fields.get("provider_voice_id"):
            raise TypeError(f"{name} needs provider_voice_id=...")
        self._fields = fields

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return self._fields.get(name)

    def __repr__(self):
        shown = ", ".join(f"{k}={v!r}" for k, v in self._fields.items() if k != "provider")
        return f"{type(self).__name__}({shown})"


class CartesiaVoice(_Voice):
    _PROVIDER = "cartesia"


class PlayHTVoice(_Voice):
    _PROVIDER = "playht"


class RimeVoice(_Voice):
    _PROVIDER = "rime"


class ElevenLabsVoice(_Voice):
    _PROVIDER = "elevenlabs"


# ---------------------------------------------------------------------------------------
# log, print, logging
# ---------------------------------------------------------------------------------------


class Log:
    """The global ``log``."""

    def __init__(self):
        self.records: list[tuple[str, str]] = []

    def _write(self, level: str, message: Any) -> None:
        self.records.append((level, message if type(message) is str else str(message)))

    def debug(self, message):
        self._write("debug", message)

    def info(self, message):
        self._write("info", message)

    def warning(self, message):
        self._write("warning", message)

    def error(self, message):
        self._write("error", message)


def customer_traceback(exc: BaseException, tool_file: str) -> str:
    """The traceback as the platform shows it: the tool's own frames only, its file by name."""
    name = Path(tool_file).name
    lines = ["Traceback (most recent call last):"]
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == tool_file:
            lines.append(f'  File "{name}", line {frame.lineno}, in {frame.name}')
            if frame.line:
                lines.append(f"    {frame.line.strip()}")
    text = str(exc)
    lines.append(f"{type(exc).__name__}: {text}" if text else type(exc).__name__)
    return "\n".join(lines)


class _CaptureHandler(logging.Handler):
    def __init__(self, log: Log, tool_file: str):
        super().__init__(level=logging.DEBUG)
        self._log = log
        self._tool_file = tool_file

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR:
            level = "error"
        elif record.levelno >= logging.WARNING:
            level = "warning"
        elif record.levelno >= logging.INFO:
            level = "info"
        else:
            level = "debug"
        message = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            message += "\n" + customer_traceback(record.exc_info[1], self._tool_file)
        self._log._write(level, message)


def _make_print(log: Log):
    def tool_print(*args, sep=" ", end="\n", file=None, flush=False):
        log.info((" " if sep is None else sep).join(str(a) for a in args))

    return tool_print


# ---------------------------------------------------------------------------------------
# requests, the documented subset, over urllib
# ---------------------------------------------------------------------------------------


class RequestException(OSError):
    def __init__(self, *args, **kwargs):
        self.response = kwargs.pop("response", None)
        self.request = kwargs.pop("request", None)
        super().__init__(*args, **kwargs)


class HTTPError(RequestException):
    pass


class ConnectionError(RequestException):  # noqa: A001 - the name requests uses
    pass


class Timeout(RequestException):
    pass


class ConnectTimeout(ConnectionError, Timeout):
    pass


class ReadTimeout(Timeout):
    pass


class TooManyRedirects(RequestException):
    pass


class InvalidURL(RequestException, ValueError):
    pass


class MissingSchema(RequestException, ValueError):
    pass


class InvalidSchema(RequestException, ValueError):
    pass


class InvalidHeader(RequestException, ValueError):
    pass


class InvalidJSONError(RequestException):
    pass


class JSONDecodeError(InvalidJSONError, json.JSONDecodeError):
    def __init__(self, msg, doc, pos):
        json.JSONDecodeError.__init__(self, msg, doc, pos)
        InvalidJSONError.__init__(self, *self.args)


class _Headers(ReadOnlyMapping):
    _fold = staticmethod(lambda key: key.lower())


class Response:
    def __init__(self, status_code, reason, url, headers, content, elapsed_ms):
        import datetime

        self.status_code = status_code
        self.reason = reason
        self.url = url
        self.headers = headers
        self._content = content
        self.elapsed = datetime.timedelta(milliseconds=elapsed_ms)
        self.history: list[Response] = []
        content_type = headers.get("content-type") or ""
        self.encoding = None
        for param in content_type.split(";")[1:]:
            key, _, value = param.strip().partition("=")
            if key.lower() == "charset" and value:
                self.encoding = value.strip("\"'")
        if self.encoding is None and "json" in content_type.lower():
            self.encoding = "utf-8"

    def __repr__(self):
        return f"<Response [{self.status_code}]>"

    def __bool__(self):
        return self.ok

    @property
    def ok(self):
        return self.status_code < 400

    @property
    def content(self):
        return self._content

    @property
    def text(self):
        try:
            return self._content.decode(self.encoding or "utf-8", errors="replace")
        except LookupError:
            return self._content.decode("utf-8", errors="replace")

    def json(self):
        try:
            return json.loads(self.text)
        except json.JSONDecodeError as exc:
            raise JSONDecodeError(exc.msg, exc.doc, exc.pos) from None

    def raise_for_status(self):
        if 400 <= self.status_code < 600:
            side = "Client" if self.status_code < 500 else "Server"
            raise HTTPError(f"{self.status_code} {side} Error: {self.reason} for url: {self.url}", response=self)

    def close(self):
        pass


class _Http:
    """The ``requests`` functions, bound to the call's log and resolver table."""

    def __init__(self, log: Log, resolve: Mapping[str, str]):
        self.log = log
        self.resolve = dict(resolve)

    def _note(self, method, netloc, status, started, failed=False):
        ms = (time.monotonic() - started) * 1000.0
        self.log._write("warning" if failed else "info", f"http {method} {netloc} {status} {ms:.1f} ms")

    @staticmethod
    def _pairs(value):
        items = list(value.items()) if isinstance(value, dict) else list(value)
        out = []
        for key, item in items:
            for one in item if isinstance(item, (list, tuple)) else [item]:
                if one is not None:
                    out.append((str(key), one.decode() if isinstance(one, bytes) else str(one)))
        return out

    def request(
        self,
        method,
        url,
        *,
        params=None,
        data=None,
        headers=None,
        json=None,
        timeout=None,
        allow_redirects=True,
        auth=None,
        verify=True,
        **unsupported,
    ):
        if unsupported:
            raise TypeError(f"requests: argument {sorted(unsupported)[0]!r} is not supported")
        method = method.upper()
        url = url.strip()
        scheme, sep, _ = url.partition("://")
        if not sep:
            raise MissingSchema(f"Invalid URL {url!r}: No scheme supplied. Perhaps you meant https://{url}?")
        if scheme.lower() not in ("http", "https"):
            raise InvalidSchema(f"No connection adapters were found for {url!r}")
        if params:
            query = params if isinstance(params, str) else urllib.parse.urlencode(self._pairs(params))
            parts = urllib.parse.urlsplit(url)
            url = urllib.parse.urlunsplit(parts._replace(query=f"{parts.query}&{query}" if parts.query else query))
        sent = {}
        for name, value in (headers or {}).items():
            if value is None:
                continue
            name = name.decode() if isinstance(name, bytes) else name
            value = value.decode() if isinstance(value, bytes) else value
            if any(c in name + value for c in "\r\n\0"):
                raise InvalidHeader(f"Invalid return character or leading space in header: {name}")
            sent[name] = value
        if auth is not None:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode("ascii")
            sent["Authorization"] = f"Basic {token}"
        body = None
        content_type = None
        if data:
            if isinstance(data, bytes):
                body = data
            elif isinstance(data, str):
                body = data.encode("utf-8")
            else:
                body = urllib.parse.urlencode(self._pairs(data)).encode("ascii")
                content_type = "application/x-www-form-urlencoded"
        elif json is not None:
            import json as _json

            try:
                body = _json.dumps(json, allow_nan=False).encode("utf-8")
            except (TypeError, ValueError) as exc:
                raise InvalidJSONError(f"json= cannot be sent: {exc}") from None
            content_type = "application/json"
        if content_type and not any(k.lower() == "content-type" for k in sent):
            sent["Content-Type"] = content_type
        if isinstance(timeout, (tuple, list)):
            timeout = timeout[1] or timeout[0]
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
        started = time.monotonic()
        if host not in self.resolve:
            self._note(method, parts.netloc, "refused", started, failed=True)
            raise ConnectionError(f"outbound HTTP to {host} is not allowed for this tenant")
        req = urllib.request.Request(url, data=body, headers=sent, method=method)
        opener = urllib.request.build_opener(_resolving_handler(self.resolve), _NoRedirect)
        try:
            with opener.open(req, timeout=timeout if timeout else 30) as raw:
                status, reason, got, content = raw.status, raw.reason, raw.headers.items(), raw.read()
        except urllib.error.HTTPError as exc:
            status, reason, got, content = exc.code, exc.reason, exc.headers.items(), exc.read()
        except TimeoutError:
            self._note(method, parts.netloc, "read_timeout", started, failed=True)
            raise ReadTimeout(f"the request to {host} timed out (timeout={timeout} s)") from None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, (socket.timeout, TimeoutError)):
                self._note(method, parts.netloc, "connect_timeout", started, failed=True)
                raise ConnectTimeout(f"connecting to {host} timed out") from None
            self._note(method, parts.netloc, "connection", started, failed=True)
            raise ConnectionError(f"connecting to {host} failed: {exc.reason}") from None
        self._note(method, parts.netloc, str(status), started)
        joined: dict[str, str] = {}
        for name, value in got:
            joined[name] = f"{joined[name]}, {value}" if name in joined else value
        return Response(status, reason, url, _Headers(joined), content, (time.monotonic() - started) * 1000.0)

    def module(self) -> types.ModuleType:
        requests = types.ModuleType("requests")
        exceptions = types.ModuleType("requests.exceptions")
        classes = (
            RequestException,
            HTTPError,
            ConnectionError,
            Timeout,
            ConnectTimeout,
            ReadTimeout,
            TooManyRedirects,
            InvalidURL,
            MissingSchema,
            InvalidSchema,
            InvalidHeader,
            InvalidJSONError,
            JSONDecodeError,
        )
        for cls in classes:
            setattr(requests, cls.__name__, cls)
            setattr(exceptions, cls.__name__, cls)
        requests.exceptions = exceptions
        requests.Response = Response
        requests.request = self.request
        requests.get = lambda url, params=None, **kw: self.request("GET", url, params=params, **kw)
        requests.post = lambda url, data=None, json=None, **kw: self.request("POST", url, data=data, json=json, **kw)
        requests.put = lambda url, data=None, **kw: self.request("PUT", url, data=data, **kw)
        requests.patch = lambda url, data=None, **kw: self.request("PATCH", url, data=data, **kw)
        requests.delete = lambda url, **kw: self.request("DELETE", url, **kw)
        requests.head = lambda url, **kw: self.request("HEAD", url, **kw)
        return requests


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects are not part of the corpus; a 3xx comes back as the response it is."""

    def redirect_request(self, *args, **kwargs):
        return None


def _resolving_handler(resolve: Mapping[str, str]) -> urllib.request.BaseHandler:
    class ResolvedConnection(http.client.HTTPConnection):
        def connect(self):
            self.sock = socket.create_connection((resolve[self.host], self.port), self.timeout)

    class ResolvingHandler(urllib.request.HTTPHandler):
        def http_open(self, req):
            return self.do_open(ResolvedConnection, req)

    return ResolvingHandler()


# ---------------------------------------------------------------------------------------
# The return value: README "What a tool may return"
# ---------------------------------------------------------------------------------------


class Bad(Exception):
    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")


def _is_number(value) -> bool:
    return type(value) in (int, float) and math.isfinite(value)


def _check_text(value, field):
    if type(value) is not str:
        raise Bad(field, f"must be a str, got {type(value).__name__}")
    return value


def _check_sip_text(value, field):
    _check_text(value, field)
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise Bad(field, "must not contain control characters")
    return value


def _check_bool(value, field):
    if type(value) is not bool:
        raise Bad(field, f"must be a bool, got {type(value).__name__}")
    return value


def _check_number(value, field):
    if not _is_number(value):
        raise Bad(field, f"must be a number, got {type(value).__name__}")
    return value


def _check_int(value, field):
    if type(value) is not int:
        raise Bad(field, f"must be an int, got {type(value).__name__}")
    return value


def _check_text_list(value, field):
    if type(value) not in (list, tuple):
        raise Bad(field, f"must be a list of str, got {type(value).__name__}")
    return [_check_text(v, f"{field}[{i}]") for i, v in enumerate(value)]


def _check_map(check):
    def validate(value, field):
        if type(value) is not dict:
            raise Bad(field, f"must be a dict, got {type(value).__name__}")
        return {_check_sip_text(k, field): check(v, f"{field}.{k}") for k, v in value.items()}

    return validate


def _check_choice(*choices):
    def validate(value, field):
        if value not in choices or type(value) is not str:
            raise Bad(field, f"must be one of {', '.join(choices)}")
        return value

    return validate


def _record(spec, *, required=()):
    def validate(value, field):
        if type(value) is not dict:
            raise Bad(field, f"must be a dict, got {type(value).__name__}")
        out = {}
        for key, item in value.items():
            if key not in spec:
                raise Bad(f"{field}.{key}", "unknown key")
            if item is not None:
                out[key] = spec[key](item, f"{field}.{key}")
        for key in required:
            if key not in out:
                raise Bad(f"{field}.{key}", "required")
        return out

    return validate


_LISTEN = _record(
    {
        "listen": _check_bool,
        "delayed_response": _check_bool,
        "asr": _record(
            {
                "timeout": _check_number,
                "keywords": _check_text_list,
                "custom_biases": _check_map(_check_number),
                "fields": _check_text_list,
                "corrections": _check_map(_check_text),
            }
        ),
        "dtmf": _record(
            {
                "num_digits": _check_int,
                "first_digit_timeout": _check_number,
                "inter_digit_timeout": _check_number,
                "finish_on_key": _check_text,
                "early_listening": _check_bool,
                "is_pii": _check_bool,
                "timeout": _check_number,
            }
        ),
        "channel": _check_choice("SPEECH", "DTMF", "SPEECH_AND_DTMF"),
        "barge_in": _record({"is_enabled": _check_bool, "interruption_window": _check_number}),
        "smart_vad": _record(
            {"is_enabled": _check_bool, "max_extensions": _check_int, "max_extension_duration": _check_number}
        ),
        "interjection": _record({"enable": _check_bool, "frequency": _check_number}),
    }
)

_SIP_HEADERS = _check_map(_check_sip_text)
_METHODS = {
    "refer": _record({"phone_number": _check_sip_text, "sip_headers": _SIP_HEADERS}, required=("phone_number",)),
    "invite": _record(
        {
            "phone_number": _check_sip_text,
            "outbound_caller_id": _check_sip_text,
            "outbound_endpoint": _check_sip_text,
            "sip_headers": _SIP_HEADERS,
        },
        required=("phone_number",),
    ),
    "bye": _record({"sip_headers": _SIP_HEADERS}),
}
_HANDOFF_FIELDS = _record({"type": _check_sip_text, "reason": _check_sip_text, **_METHODS})


def _check_handoff(value, field):
    handoff = _HANDOFF_FIELDS(value, field)
    methods = [m for m in _METHODS if m in handoff]
    if len(methods) != 1:
        raise Bad(field, "needs exactly one of refer, invite, bye")
    return handoff


def _check_variant(value, field, variants):
    _check_text(value, field)
    if variants and value not in variants:
        raise Bad(field, f"unknown variant {value!r}")
    return value


_RETURN = {
    "content": _check_text,
    "utterance": _check_text,
    "handoff": _check_handoff,
    "hangup": _check_bool,
    "listen": _LISTEN,
}
ACTION_ORDER = ("content", "utterance", "handoff", "hangup", "listen", "variant", "voice")


def normalize_action(returned, effects: Mapping[str, Any], variants) -> dict:
    """The ``action``, or ``Bad`` naming the field."""
    if returned is None or (type(returned) is str and returned == ""):
        action = {}
    elif type(returned) is str:
        action = {"content": returned}
    elif type(returned) is dict:
        action = {}
        for key, value in returned.items():
            if key not in (*_RETURN, "variant"):
                raise Bad(str(key), "unknown key")
            if value is None:
                continue
            action[key] = _check_variant(value, key, variants) if key == "variant" else _RETURN[key](value, key)
        action = to_plain(action, "return")
    else:
        raise Bad("return", f"must be a str, a dict or None, got {type(returned).__name__}")
    if "variant" in effects and "variant" not in action:
        action["variant"] = effects["variant"]
    if "voice" in effects:
        action["voice"] = effects["voice"]
    if "handoff" in effects and "handoff" not in action:
        recorded = effects["handoff"]
        action["handoff"] = {k: recorded[k] for k in ("destination", "reason") if k in recorded}
        if "utterance" in recorded and "utterance" not in action:
            action["utterance"] = recorded["utterance"]
    return {key: action[key] for key in ACTION_ORDER if key in action}


# ---------------------------------------------------------------------------------------
# Running one call
# ---------------------------------------------------------------------------------------


def _redactor(conv: Conversation):
    def redact(text: str) -> str:
        values = sorted((conv.utils._secrets[n] for n in conv.utils._used), key=len, reverse=True)
        for value in values:
            if len(value) >= MIN_REDACTED_LEN:
                text = text.replace(value, REDACTED)
        return text

    return redact


def _install_modules(http: _Http) -> None:
    polyai = types.ModuleType("polyai")
    voice = types.ModuleType("polyai.voice")
    for cls in (CartesiaVoice, PlayHTVoice, RimeVoice, ElevenLabsVoice):
        setattr(voice, cls.__name__, cls)
    polyai.voice = voice
    requests = http.module()
    sys.modules.update(
        {"polyai": polyai, "polyai.voice": voice, "requests": requests, "requests.exceptions": requests.exceptions}
    )


def _error(exc: BaseException, tool_file: str, kind: str | None = None) -> dict:
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == tool_file:
            line = tb.tb_lineno
        tb = tb.tb_next
    text = str(exc)
    name = type(exc).__name__
    return {
        "kind": kind or name,
        "message": f"{name}: {text}" if text else name,
        "file": Path(tool_file).name,
        "line": line,
        "traceback": "".join(traceback.format_exception(exc)),
    }


def run(request: Mapping[str, Any]) -> dict:
    tool_file = str(Path(request["tool"]).resolve())
    function = request["function"]
    conv_data = request.get("conv") or {}
    args = request.get("args") or {}
    before = to_plain(conv_data.get("state") or {}, "state")

    log = Log()
    http = _Http(log, request.get("resolve") or {})
    _install_modules(http)
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(_CaptureHandler(log, tool_file))
    root.setLevel(logging.DEBUG)

    conv = Conversation(conv_data, function=function)
    redact = _redactor(conv)
    result: dict[str, Any] = {
        "status": "ok",
        "action": {},
        "state": before,
        "state_changes": {"set": {}, "deleted": []},
        "logs": [],
        "error": None,
    }

    def fail(status: str, error: dict) -> None:
        result["status"] = status
        error["message"] = redact(error["message"])
        error["traceback"] = redact(error["traceback"] or "")
        result["error"] = error

    try:
        module_name = Path(tool_file).stem
        spec = importlib.util.spec_from_file_location(module_name, tool_file)
        module = importlib.util.module_from_spec(spec)
        module.log = log
        module.Conversation = Conversation
        module.print = _make_print(log)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
        fn = getattr(module, function, None)
        if not isinstance(fn, types.FunctionType) or fn.__module__ != module_name:
            fail(
                "not_found",
                {
                    "kind": "NotFound",
                    "message": f"no function named {function!r}",
                    "file": Path(tool_file).name,
                    "line": None,
                    "traceback": None,
                },
            )
        else:
            returned = fn(conv, *args) if isinstance(args, list) else fn(conv, **args)
            try:
                action = normalize_action(returned, conv._effects, conv_data.get("variants") or {})
            except (Bad, UnstorableValue) as exc:
                fail(
                    "invalid_return",
                    {
                        "kind": "InvalidReturn",
                        "message": str(exc),
                        "file": Path(tool_file).name,
                        "line": None,
                        "traceback": None,
                    },
                )
            else:
                try:
                    after = to_plain(conv.state._data, "state")
                except UnstorableValue as exc:
                    fail("runtime_error", _error(exc, tool_file, kind="UnstorableValue"))
                else:
                    result["action"] = action
                    result["state"] = after
                    result["state_changes"] = {
                        "set": {
                            k: v for k, v in after.items() if k not in before or canonical(before[k]) != canonical(v)
                        },
                        "deleted": sorted(k for k in before if k not in after),
                    }
    except BaseException as exc:  # noqa: BLE001 - every exception of the tool is its result
        fail("runtime_error", _error(exc, tool_file))
    finally:
        logging.getLogger().handlers.clear()
    result["logs"] = [{"level": level, "message": redact(message)} for level, message in log.records]
    return result


if __name__ == "__main__":
    # Run as a script: this directory must not shadow anything a tool imports.
    if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
        del sys.path[0]
    # The tool's own stdout must not mix with the result: anything it writes directly goes
    # to stderr; the result is written on the real stdout at the end.
    real_stdout = sys.stdout
    sys.stdout = sys.stderr
    try:
        request = json.loads(sys.stdin.read())
        outcome = run(request)
    finally:
        sys.stdout = real_stdout
    sys.stdout.write(json.dumps(outcome, ensure_ascii=False))
    sys.stdout.flush()
