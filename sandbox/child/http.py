"""``requests`` as a tool sees it: outbound HTTP, made by the supervisor.

Runs in the confined child, beside tool code. The child has no network (its own network
namespace, and seccomp refuses ``socket()``): each request becomes one message to the
supervisor (``sandbox.child.channel.ask_supervisor``), which checks it against the
tenant's egress policy, makes it (``sandbox/egress/``) and answers with the response.
Nothing here is a check the supervisor relies on: the checks below give tools the
errors ``requests`` would give, early and naming the argument. Like ``polyai.voice``,
the values a tool passes are read by exact type (``type(x) is dict``), so no method a
tool defined runs here.

What a tool may write, a compatible subset of requests 2.x::

    import requests
    r = requests.get(url, params=..., headers=..., timeout=...)
    r = requests.post(url, json=..., data=...)          also put, patch, delete, head
    r = requests.request("GET", url, ...)

    params=           dict or list of pairs; values str, int, float, bool or lists of them
                      (None is left out); or a str query
    data=             dict or list of pairs (form-encoded), str (sent as UTF-8) or bytes
    json=             plain data, sent as application/json (ignored when data= is given)
    headers=          dict of str (or bytes) to str (or bytes); None leaves a header out
    timeout=          seconds, or (connect, read); within the call's deadline in any case
    allow_redirects=  True (False for head); each hop is checked like the first request
    auth=             (user, password): HTTP Basic
    verify=True is accepted: certificates are always verified. verify=False, cert,
    proxies, stream, files, cookies and hooks raise TypeError.

    r.status_code  r.ok  r.reason  r.url  r.headers (case-insensitive, read-only)
    r.content  r.text  r.json()  r.raise_for_status()  r.history  r.elapsed  r.encoding

Exceptions, also in ``requests.exceptions``::

    RequestException (an OSError)
    ├── HTTPError               raise_for_status() on a 4xx or 5xx status
    ├── ConnectionError
    │   ├── ConnectTimeout      (also a Timeout) resolving or connecting took too long
    │   ├── SSLError            the TLS handshake or the certificate check failed
    │   └── EgressRefused       the tenant's egress policy refused the host, port or address
    ├── Timeout
    │   └── ReadTimeout         the server did not send in time
    ├── TooManyRedirects
    ├── InvalidURL, InvalidSchema, MissingSchema, InvalidHeader   (also ValueError)
    ├── InvalidJSONError
    │   └── JSONDecodeError     r.json() on a body that is not JSON (also json.JSONDecodeError)
    ├── RequestLimitExceeded    the call's cap on HTTP requests
    └── ResponseTooLarge        the call's cap on response bytes
"""

from __future__ import annotations

import base64
import datetime
import json as _json
import math
import urllib.parse
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from sandbox.child.channel import SupervisorUnavailable, ask_supervisor
from sandbox.child.conv import ReadOnlyMapping
from sandbox.child.toolobjects import keeps_public_state
from sandbox.child.values import UnstorableValue, to_plain, type_name

MAX_BODY_BYTES = 512 * 1024
"""The largest request body the supervisor accepts from any policy (sandbox/egress/policy.py
``MAX_REQUEST_BYTES_CEILING``)."""

_SCHEMES = ("http", "https")
_REDIRECT_STATUSES = (301, 302, 303, 307, 308)
_UNSUPPORTED = {
    "cookies": "set a Cookie header instead",
    "files": "multipart uploads are not supported",
    "proxies": "requests go through toolpool's supervisor",
    "stream": "responses are read whole, within the call's byte cap",
    "cert": "client certificates are not supported",
    "hooks": "hooks are not supported",
}


# ---------------------------------------------------------------------------------------
# Exceptions
# ---------------------------------------------------------------------------------------


@keeps_public_state  # a tool's own exception classes derive from these
class RequestException(OSError):
    """Something went wrong with a request. ``response`` is the Response, if there was one."""

    def __init__(self, *args: Any, **kwargs: Any):
        self.response = kwargs.pop("response", None)
        self.request = kwargs.pop("request", None)
        super().__init__(*args, **kwargs)


class HTTPError(RequestException):
    """A 4xx or 5xx status, raised by ``raise_for_status()``."""


class ConnectionError(RequestException):  # noqa: A001 - the name requests uses
    """The connection failed, or the egress policy refused it."""


class EgressRefused(ConnectionError):
    """The tenant's egress policy does not allow this host, port or address."""


class SSLError(ConnectionError):
    """The TLS handshake or the certificate check failed."""


class Timeout(RequestException):
    """The request timed out (its own timeout, or the call's deadline)."""


class ConnectTimeout(ConnectionError, Timeout):
    """Resolving or connecting took too long."""


class ReadTimeout(Timeout):
    """The server did not send in time."""


class TooManyRedirects(RequestException):
    """More redirects than the egress policy allows."""


class InvalidURL(RequestException, ValueError):
    """The URL cannot be used."""


class MissingSchema(RequestException, ValueError):
    """The URL has no scheme (write https://...)."""


class InvalidSchema(RequestException, ValueError):
    """The URL's scheme is not http or https."""


class InvalidHeader(RequestException, ValueError):
    """A header is malformed (CR, LF, NUL...) or one toolpool sets itself."""


class InvalidJSONError(RequestException):
    """The json= value cannot be sent as JSON."""


class JSONDecodeError(InvalidJSONError, _json.JSONDecodeError):
    """``Response.json()`` on a body that is not JSON."""

    def __init__(self, msg: str, doc: str, pos: int):
        # As requests does: json's fields first, then the OSError side from the one message
        # (OSError reads several arguments as errno and strerror).
        _json.JSONDecodeError.__init__(self, msg, doc, pos)
        InvalidJSONError.__init__(self, *self.args)


class RequestLimitExceeded(RequestException):
    """The call's cap on HTTP requests is reached."""


class ResponseTooLarge(RequestException):
    """The response exceeds the call's cap on response bytes."""


_KIND_EXCEPTIONS: Mapping[str, type[RequestException]] = MappingProxyType(
    {
        "refused": EgressRefused,
        "invalid_request": RequestException,
        "invalid_url": InvalidURL,
        "invalid_header": InvalidHeader,
        "request_limit": RequestLimitExceeded,
        "too_large": ResponseTooLarge,
        "connect_timeout": ConnectTimeout,
        "read_timeout": ReadTimeout,
        "ssl": SSLError,
        "connection": ConnectionError,
        "too_many_redirects": TooManyRedirects,
    }
)
"""The supervisor's error kinds (sandbox/egress/errors.py KINDS) -> the exception a tool sees."""


# ---------------------------------------------------------------------------------------
# Responses
# ---------------------------------------------------------------------------------------


class Headers(ReadOnlyMapping):
    """Response headers: read-only, looked up ignoring case. Repeated headers are joined
    with ", ", as requests joins them."""

    __slots__ = ()

    @staticmethod
    def _fold(key: str) -> str:
        return key.lower()


def _headers(pairs: Any) -> Headers:
    joined: dict[str, str] = {}
    names: dict[str, str] = {}
    for name, value in pairs or ():
        folded = name.lower()
        if folded in joined:
            joined[folded] += ", " + value
        else:
            names[folded] = name
            joined[folded] = value
    return Headers({names[k]: v for k, v in joined.items()})


class Response:
    """An HTTP response, read whole. Read-only: tools read its attributes."""

    __slots__ = ("_content", "elapsed", "encoding", "headers", "history", "reason", "status_code", "url")

    def __init__(self) -> None:
        # Declarations for the type checker only: a bare annotation of an attribute assigns
        # nothing and stores nothing, and the slots are filled below, past __setattr__.
        self.status_code: int | None
        self.reason: str | None
        self.url: str | None
        self.headers: Headers
        self.history: list[Response]
        self.elapsed: datetime.timedelta
        self.encoding: str | None
        self._content: bytes
        for name, value in (
            ("status_code", None),
            ("reason", None),
            ("url", None),
            ("headers", Headers({})),
            ("history", []),
            ("elapsed", datetime.timedelta(0)),
            ("encoding", None),
            ("_content", b""),
        ):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("a Response is read-only")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("a Response is read-only")

    def __repr__(self) -> str:
        return f"<Response [{self.status_code}]>"

    def __bool__(self) -> bool:
        return self.ok

    @property
    def ok(self) -> bool:
        """True unless the status is 4xx or 5xx."""
        return self.status_code is not None and self.status_code < 400

    @property
    def content(self) -> bytes:
        return self._content

    @property
    def text(self) -> str:
        """The body decoded with the charset the server named, else UTF-8 (bad bytes replaced)."""
        for encoding in (self.encoding, "utf-8"):
            if encoding:
                try:
                    return self._content.decode(encoding, errors="replace")
                except LookupError:  # an unknown charset, or a codec the child cannot load
                    continue
        return self._content.decode("utf-8", errors="replace")

    def json(self, **kwargs: Any) -> Any:
        """The body parsed as JSON; ``JSONDecodeError`` if it is not JSON."""
        if kwargs:
            raise TypeError(f"Response.json() takes no arguments in toolpool, got {sorted(kwargs)}")
        text = self.text
        try:
            return _json.loads(text)
        except _json.JSONDecodeError as exc:
            error = JSONDecodeError(exc.msg, exc.doc, exc.pos)
        raise error

    def raise_for_status(self) -> None:
        """Raise ``HTTPError`` for a 4xx or 5xx status."""
        status = self.status_code
        if status is None or status < 400 or status >= 600:
            return
        side = "Client" if status < 500 else "Server"
        raise HTTPError(f"{status} {side} Error: {self.reason} for url: {self.url}", response=self)

    def close(self) -> None:
        """Nothing to release: the connection was closed when the body was read."""


def _charset(headers: Headers) -> str | None:
    content_type = headers.get("content-type") or ""
    for param in content_type.split(";")[1:]:
        key, _, value = param.strip().partition("=")
        if key.strip().lower() == "charset" and value.strip():
            return value.strip().strip("\"'")
    if "json" in content_type.lower():
        return "utf-8"
    return None


def _response(answer: Mapping[str, Any], history: list[Response]) -> Response:
    response = Response()
    headers = _headers(answer.get("headers"))
    for name, value in (
        ("status_code", int(answer["status"])),
        ("reason", str(answer.get("reason") or "")),
        ("url", str(answer.get("url") or "")),
        ("headers", headers),
        ("history", history),
        ("elapsed", datetime.timedelta(milliseconds=float(answer.get("elapsed_ms") or 0))),
        ("encoding", _charset(headers)),
        ("_content", base64.b64decode(answer.get("body") or "")),
    ):
        object.__setattr__(response, name, value)
    return response


# ---------------------------------------------------------------------------------------
# Building a request from a tool's arguments
# ---------------------------------------------------------------------------------------


def _text(value: Any, what: str) -> str:
    if type(value) is str:
        return value
    if type(value) is bytes:
        return value.decode("utf-8")
    raise TypeError(f"{what} must be a str or bytes, got {type_name(type(value))}")


def _scalar(value: Any, what: str) -> str:
    cls = type(value)
    if cls is str or cls is bytes:
        return _text(value, what)
    if cls is bool or cls is int:
        return str(value)
    if cls is float:
        return repr(value)
    raise TypeError(f"{what} must be a str, bytes, int, float or bool, got {type_name(cls)}")


def _pairs(value: Any, what: str) -> list[tuple[str, str]]:
    """(name, value) pairs from a dict or a list of pairs; list values repeat the name."""
    if type(value) is dict:
        items = list(dict.items(value))
    elif type(value) is list or type(value) is tuple:
        items = []
        for item in value:
            if (type(item) is not tuple and type(item) is not list) or len(item) != 2:
                raise TypeError(f"{what} must be a dict or a list of (name, value) pairs")
            items.append((item[0], item[1]))
    else:
        raise TypeError(f"{what} must be a dict or a list of (name, value) pairs, got {type_name(type(value))}")
    pairs = []
    for key, item in items:
        name = _scalar(key, f"{what} name")
        values = item if type(item) is list or type(item) is tuple else [item]
        for one in values:
            if one is not None:
                pairs.append((name, _scalar(one, f"{what}[{name!r}]")))
    return pairs


def _with_params(url: str, params: Any) -> str:
    if params is None:
        return url
    if type(params) is str or type(params) is bytes:
        query = _text(params, "params")
    else:
        query = urllib.parse.urlencode(_pairs(params, "params"))
    if not query:
        return url
    scheme, netloc, path, existing, fragment = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((scheme, netloc, path, f"{existing}&{query}" if existing else query, fragment))


def _check_url(url: Any) -> str:
    text = _text(url, "url").strip()
    scheme, sep, _ = text.partition("://")
    if not sep:
        raise MissingSchema(f"Invalid URL {text!r}: No scheme supplied. Perhaps you meant https://{text}?")
    if scheme.lower() not in _SCHEMES:
        raise InvalidSchema(f"No connection adapters were found for {text!r} (toolpool supports http and https)")
    return text


def _header_list(headers: Any, auth: Any) -> list[list[str]]:
    out: list[list[str]] = []
    if headers is not None:
        if type(headers) is not dict:
            raise TypeError(f"headers must be a dict, got {type_name(type(headers))}")
        for name, value in dict.items(headers):
            if value is None:
                continue
            if type(name) not in (str, bytes) or type(value) not in (str, bytes):
                raise InvalidHeader(f"Header part ({value!r}) from ({name!r}, {value!r}) must be of type str or bytes")
            name, value = _text(name, "header name"), _text(value, "header value")
            if any(c in name or c in value for c in "\r\n\0") or value[:1] in (" ", "\t"):
                raise InvalidHeader(
                    f"Invalid leading whitespace, reserved character(s), or return character(s) in header {name!r}"
                )
            out.append([name, value])
    if auth is not None:
        if (type(auth) is not tuple and type(auth) is not list) or len(auth) != 2:
            raise TypeError("auth must be a (user, password) pair")
        user, password = _text(auth[0], "auth user"), _text(auth[1], "auth password")
        token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        out = [pair for pair in out if pair[0].lower() != "authorization"] + [["Authorization", f"Basic {token}"]]
    return out


def _body(data: Any, json: Any, headers: list[list[str]]) -> bytes | None:
    """The body, and the Content-Type it implies unless the tool set one."""
    content_type = None
    if data is not None and not (type(data) in (dict, list, tuple, str, bytes) and not data):
        if type(data) is bytes:
            body = data
        elif type(data) is str:
            body = data.encode("utf-8")
        else:
            body = urllib.parse.urlencode(_pairs(data, "data")).encode("ascii")
            content_type = "application/x-www-form-urlencoded"
    elif json is not None:
        try:
            plain = to_plain(json, "json")
        except UnstorableValue as exc:
            raise InvalidJSONError(f"json= cannot be sent: {exc}") from None
        body = _json.dumps(plain, ensure_ascii=False, allow_nan=False).encode("utf-8")
        content_type = "application/json"
    else:
        return None
    if len(body) > MAX_BODY_BYTES:
        raise RequestException(
            f"the request body of {len(body)} bytes exceeds toolpool's cap of {MAX_BODY_BYTES} bytes"
        )
    if content_type and not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(["Content-Type", content_type])
    return body


def _seconds(value: Any) -> float | None:
    if value is None:
        return None
    if type(value) not in (int, float) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"timeout must be a positive number of seconds or None, got {value!r}")
    seconds: float = value  # an int or a float, checked above by exact type
    return seconds


def _timeout(timeout: Any) -> list[float | None] | None:
    if timeout is None:
        return None
    if type(timeout) is tuple or type(timeout) is list:
        if len(timeout) != 2:
            raise ValueError("timeout must be seconds or a (connect, read) pair")
        return [_seconds(timeout[0]), _seconds(timeout[1])]
    seconds = _seconds(timeout)
    return [seconds, seconds]


def prepare(
    method: Any,
    url: Any,
    *,
    params: Any = None,
    data: Any = None,
    headers: Any = None,
    json: Any = None,
    timeout: Any = None,
    allow_redirects: Any = True,
    auth: Any = None,
    verify: Any = True,
    **unsupported: Any,
) -> dict[str, Any]:
    """The message for the supervisor, or raise the error requests would raise."""
    for name in unsupported:
        hint = _UNSUPPORTED.get(name, "not a requests argument toolpool supports")
        raise TypeError(f"requests: argument {name!r} is not supported in toolpool ({hint})")
    if verify is not True:
        raise TypeError("requests: verify must be True in toolpool: certificates are always verified")
    if type(allow_redirects) is not bool:
        raise TypeError("allow_redirects must be True or False")
    method = _text(method, "method").upper()
    header_list = _header_list(headers, auth)
    body = _body(data, json, header_list)
    return {
        "op": "http",
        "method": method,
        "url": _with_params(_check_url(url), params),
        "headers": header_list,
        "body": None if body is None else base64.b64encode(body).decode("ascii"),
        "timeout": _timeout(timeout),
        "redirects": allow_redirects,
    }


# ---------------------------------------------------------------------------------------
# Sending
# ---------------------------------------------------------------------------------------


def _ask(message: dict[str, Any]) -> dict[str, Any]:
    try:
        answer = ask_supervisor(message)
    except SupervisorUnavailable:
        raise ConnectionError("outbound HTTP is available only to tools running in toolpool") from None
    except (OSError, EOFError, ValueError):
        raise ConnectionError("the supervisor did not answer the request") from None
    if type(answer) is not dict:
        raise ConnectionError("the supervisor's answer is malformed")
    return answer


def _raise_for(answer: Mapping[str, Any]) -> None:
    cls = _KIND_EXCEPTIONS.get(answer.get("kind", ""), RequestException)
    raise cls(str(answer.get("error") or "the request failed"))


def request(method: Any, url: Any, **kwargs: Any) -> Response:
    """Send a request through the supervisor; see the module docstring for the arguments."""
    answer = _ask(prepare(method, url, **kwargs))
    if answer.get("ok") is not True:
        _raise_for(answer)
    history = [_response(hop, []) for hop in answer.get("history") or ()]
    return _response(answer, history)


def get(url: Any, params: Any = None, **kwargs: Any) -> Response:
    return request("GET", url, params=params, **kwargs)


def head(url: Any, **kwargs: Any) -> Response:
    kwargs.setdefault("allow_redirects", False)
    return request("HEAD", url, **kwargs)


def post(url: Any, data: Any = None, json: Any = None, **kwargs: Any) -> Response:
    return request("POST", url, data=data, json=json, **kwargs)


def put(url: Any, data: Any = None, **kwargs: Any) -> Response:
    return request("PUT", url, data=data, **kwargs)


def patch(url: Any, data: Any = None, **kwargs: Any) -> Response:
    return request("PATCH", url, data=data, **kwargs)


def delete(url: Any, **kwargs: Any) -> Response:
    return request("DELETE", url, **kwargs)


EXCEPTION_CLASSES: tuple[type[BaseException], ...] = (
    RequestException,
    HTTPError,
    ConnectionError,
    EgressRefused,
    SSLError,
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
    RequestLimitExceeded,
    ResponseTooLarge,
)

EXCEPTIONS_MODULE_NAMES: Mapping[str, Any] = MappingProxyType({cls.__name__: cls for cls in EXCEPTION_CLASSES})
"""The contents of the ``requests.exceptions`` module a tool may import."""

REQUESTS_MODULE_NAMES: Mapping[str, Any] = MappingProxyType(
    {
        "request": request,
        "get": get,
        "head": head,
        "post": post,
        "put": put,
        "patch": patch,
        "delete": delete,
        "Response": Response,
        **EXCEPTIONS_MODULE_NAMES,
    }
)
"""The contents of the ``requests`` module a tool may import."""
