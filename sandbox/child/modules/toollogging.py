"""``import logging`` as a tool sees it: the standard API, writing into the call's logs.

Runs in the confined child, beside tool code. Customers write::

    import logging
    logger = logging.getLogger(__name__)
    logger.info("booking %s for %d people", ref, party)
    try:
        ...
    except ValueError:
        logger.exception("could not book")

This is toolpool's own module with the standard names, not the standard library's
``logging``: the real one is a door (``logging.root.manager``, handlers holding streams,
``logging.config`` building objects from dotted paths, ``{``-style formatters walking
attributes) and writes to the process's stderr, which nobody reads. Here every record
goes to the call's ``log`` (``sandbox/child/logs.py``), under the same caps and the
supervisor's redaction as ``log.info``:

* levels map to the call's four: DEBUG -> debug, INFO -> info, WARNING -> warning,
  ERROR and CRITICAL -> error (a custom level goes to the nearest one below it);
* unlike a bare CPython process, whose root logger drops INFO, every level from DEBUG up
  is captured by default, as the platform's ``log`` captures everything.
  ``basicConfig(...)`` is accepted and never narrows that; ``logger.setLevel(...)`` and
  ``logging.disable(...)``, the tool's explicit choices, are honoured;
* the message is ``msg % args`` (``%``-style, as the standard library does: a mapping as
  the only argument fills ``%(name)s`` by key), without the level or logger name;
* ``exception()`` and ``exc_info=True`` append the traceback of the customer's own frames
  (``sandbox/child/tracebacks.py``); ``extra``, ``stack_info`` and ``stacklevel`` are
  accepted and have no effect, as there is no formatter;
* handler setup copied from scripts runs and does nothing, since every record already
  reaches the call's logs: ``StreamHandler()``, ``Formatter(fmt)``,
  ``handler.setFormatter``/``setLevel``, ``logger.addHandler(handler)``,
  ``basicConfig(handlers=[...])``; so does ``NullHandler`` (the library idiom). Handlers
  the tool defines, and a ``StreamHandler`` given a stream, are refused with a message:
  there are no handlers that write files or streams.

Loggers live in the tool module's namespace context (one per namespace), so a reused
child's loggers write to the current call's log.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from sandbox.child import tracebacks
from sandbox.child.attributes import register_writable

CRITICAL = FATAL = 50
ERROR = 40
WARNING = WARN = 30
INFO = 20
DEBUG = 10
NOTSET = 0

_NAMES = {CRITICAL: "CRITICAL", ERROR: "ERROR", WARNING: "WARNING", INFO: "INFO", DEBUG: "DEBUG", NOTSET: "NOTSET"}
_BY_NAME = {name: level for level, name in _NAMES.items()} | {"WARN": WARNING, "FATAL": CRITICAL}
_BASIC_CONFIG_KEYS = frozenset({"level", "format", "datefmt", "style", "force", "encoding", "errors", "handlers"})
_REFUSED_BASIC_CONFIG = MappingProxyType(
    {
        "filename": "there are no files; records go to the call's logs",
        "filemode": "there are no files; records go to the call's logs",
        "stream": "there are no streams; records go to the call's logs",
    }
)


def _call_level(level: int) -> str:
    if level >= ERROR:
        return "error"
    if level >= WARNING:
        return "warning"
    if level >= INFO:
        return "info"
    return "debug"


def _check_level(level: Any) -> int:
    if type(level) is bool:
        raise TypeError(f"Level not an integer or a valid string: {level!r}")
    if isinstance(level, int):
        return int.__int__(level)
    if isinstance(level, str):
        name = str.__str__(level)
        if name not in _BY_NAME:
            raise ValueError(f"Unknown level: {name!r}")
        return _BY_NAME[name]
    raise TypeError(f"Level not an integer or a valid string: {level!r}")


def getLevelName(level: Any) -> Any:  # noqa: N802 - the standard library's name
    if isinstance(level, int) and not isinstance(level, bool):
        return _NAMES.get(level, f"Level {level}")
    if isinstance(level, str):
        return _BY_NAME.get(level, f"Level {level}")
    return f"Level {level}"


_STYLES = ("%", "{", "$")


class Formatter:
    """``logging.Formatter(fmt)``, accepted for ``handler.setFormatter``; records are never
    formatted with it (the call's logs keep the message itself, as ``log.info`` does)."""

    __slots__ = ("datefmt", "fmt", "style")

    def __init__(
        self, fmt: Any = None, datefmt: Any = None, style: Any = "%", validate: Any = True, *, defaults: Any = None
    ):
        if style not in _STYLES:
            raise ValueError(f"Style must be one of: {','.join(_STYLES)}")
        for value, what in ((fmt, "fmt"), (datefmt, "datefmt")):
            if value is not None and not isinstance(value, str):
                raise TypeError(f"Formatter {what} must be a str")
        self.fmt = fmt
        self.datefmt = datefmt
        self.style = style

    def __repr__(self) -> str:
        return f"<Formatter {self.fmt!r} (records go to the call's logs unformatted)>"


class _Handler:
    """What handler setup code calls on a handler; none of it changes where records go."""

    __slots__ = ("formatter", "level")

    def __init__(self, level: Any = NOTSET):
        self.level = _check_level(level)
        self.formatter: Formatter | None = None

    def setLevel(self, level: Any) -> None:  # noqa: N802
        self.level = _check_level(level)

    def setFormatter(self, fmt: Any) -> None:  # noqa: N802
        if fmt is not None and not isinstance(fmt, Formatter):
            raise TypeError("setFormatter() takes a logging.Formatter")
        self.formatter = fmt

    def addFilter(self, filter: Any) -> None:  # noqa: N802, A002 - the standard library's names
        pass

    def removeFilter(self, filter: Any) -> None:  # noqa: N802, A002
        pass

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


class NullHandler(_Handler):
    """Accepted by ``addHandler`` (libraries add one); it does nothing."""

    __slots__ = ()


class StreamHandler(_Handler):
    """``logging.StreamHandler()`` as copied setup code writes it (to stderr by default):
    accepted by ``addHandler``; the records it would print already go to the call's logs."""

    __slots__ = ()

    def __init__(self, stream: Any = None):
        if stream is not None:
            raise TypeError(
                "logging.StreamHandler(stream) is not available to tools: there are no streams; "
                "every record already goes to the call's logs (StreamHandler() is accepted)"
            )
        super().__init__()


_HANDLERS = (NullHandler, StreamHandler)


class _Manager:
    """The loggers of one tool namespace and where their records go."""

    __slots__ = ("disabled_up_to", "loggers", "sink")

    def __init__(self, sink: Callable[[], Any]):
        self.loggers: dict[str, Logger] = {}
        self.disabled_up_to = NOTSET - 1
        self.sink = sink  # returns the current call's Log, or a CallContext's

    def get(self, name: str) -> Logger:
        logger = self.loggers.get(name)
        if logger is None:
            logger = Logger(name, manager=self)
            self.loggers[name] = logger
        return logger

    def parent_of(self, name: str) -> Logger | None:
        if name == "root":
            return None
        while "." in name:
            name = name.rsplit(".", 1)[0]
            if name in self.loggers:
                return self.loggers[name]
        return self.loggers["root"]


class Logger:
    """A logger for tools: the standard methods, records into the call's logs."""

    __slots__ = ("_handlers", "_manager", "disabled", "level", "name", "propagate")

    def __init__(self, name: str, level: Any = NOTSET, *, manager: _Manager | None = None):
        if type(manager) is not _Manager:
            raise TypeError("use logging.getLogger(name) to get a logger")
        self.name = name
        self.level = _check_level(level)
        self.propagate = True
        self.disabled = False
        self._manager = manager
        self._handlers: list[_Handler] = []

    def __repr__(self) -> str:
        return f"<Logger {self.name} ({getLevelName(self.getEffectiveLevel())})>"

    @property
    def parent(self) -> Logger | None:
        return self._manager.parent_of(self.name)

    @property
    def handlers(self) -> list[_Handler]:
        return list(self._handlers)

    def setLevel(self, level: Any) -> None:  # noqa: N802
        self.level = _check_level(level)

    def getEffectiveLevel(self) -> int:  # noqa: N802
        logger: Logger | None = self
        while logger is not None:
            if logger.level:
                return logger.level
            logger = logger.parent
        return NOTSET

    def isEnabledFor(self, level: object) -> bool:  # noqa: N802
        level = _check_level(level)
        if self.disabled or level <= self._manager.disabled_up_to:
            return False
        return level >= self.getEffectiveLevel()

    def getChild(self, suffix: str) -> Logger:  # noqa: N802
        if not isinstance(suffix, str):
            raise TypeError("getChild() takes a str")
        name = suffix if self.name == "root" else f"{self.name}.{suffix}"
        return self._manager.get(name)

    def addHandler(self, handler: Any) -> None:  # noqa: N802
        _check_handler(handler)
        if handler not in self._handlers:
            self._handlers.append(handler)

    def removeHandler(self, handler: Any) -> None:  # noqa: N802
        if handler in self._handlers:
            self._handlers.remove(handler)

    def hasHandlers(self) -> bool:  # noqa: N802
        return True

    def debug(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        self.log(DEBUG, msg, *args, **kwargs)

    def info(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        self.log(INFO, msg, *args, **kwargs)

    def warning(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        self.log(WARNING, msg, *args, **kwargs)

    warn = warning

    def error(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        self.log(ERROR, msg, *args, **kwargs)

    def exception(self, msg: Any, *args: Any, exc_info: Any = True, **kwargs: Any) -> None:
        self.log(ERROR, msg, *args, exc_info=exc_info, **kwargs)

    def critical(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        self.log(CRITICAL, msg, *args, **kwargs)

    fatal = critical

    def log(
        self,
        level: Any,
        msg: Any,
        *args: Any,
        exc_info: Any = None,
        stack_info: Any = False,
        stacklevel: Any = 1,
        extra: Any = None,
    ) -> None:
        level = _check_level(level)
        if not self.isEnabledFor(level):
            return
        text = _render(msg, args)
        exc = _exception_of(exc_info)
        if exc is not None:
            context = self._manager.sink()
            formatted, _ = tracebacks.trimmed_traceback(exc, context.filename, context.source)
            text = f"{text}\n{formatted}"
        self._manager.sink().log._write(_call_level(level), text)


register_writable(Logger)  # logger.propagate = False, logger.level = ... are the tool's own


def _check_handler(handler: Any) -> None:
    if type(handler) not in _HANDLERS:
        raise TypeError(
            "logging handlers that write files or streams are not available to tools; "
            "every record already goes to the call's logs (StreamHandler() and NullHandler() are "
            "accepted and do nothing)"
        )


def _render(msg: Any, args: tuple[Any, ...]) -> str:
    text = msg if type(msg) is str else str(msg)
    if not args:
        return text
    if len(args) == 1 and isinstance(args[0], Mapping) and args[0]:
        args = args[0]  # type: ignore[assignment]  # as the standard library: %(name)s by key
    try:
        return text % args
    except (TypeError, ValueError, KeyError) as exc:
        # The standard library prints "--- Logging error ---" to stderr, which nobody
        # reads; keep the record and say what went wrong.
        return f"{text} [logging: could not format the message with its arguments: {type(exc).__name__}: {exc}]"


def _exception_of(exc_info: Any) -> BaseException | None:
    if not exc_info:
        return None
    if isinstance(exc_info, BaseException):
        return exc_info
    if isinstance(exc_info, tuple) and len(exc_info) == 3 and isinstance(exc_info[1], BaseException):
        return exc_info[1]
    return sys.exc_info()[1]


class LoggerAdapter:
    """``logging.LoggerAdapter(logger, extra)``: the logger's methods; ``extra`` is kept."""

    __slots__ = ("extra", "logger")

    def __init__(self, logger: Logger, extra: Any = None):
        if type(logger) is not Logger:
            raise TypeError("LoggerAdapter needs a logger from logging.getLogger()")
        self.logger = logger
        self.extra = extra

    def process(self, msg: Any, kwargs: Any) -> tuple[Any, Any]:
        return msg, kwargs

    def log(self, level: Any, msg: Any, *args: Any, **kwargs: Any) -> None:
        msg, kwargs = self.process(msg, kwargs)
        self.logger.log(level, msg, *args, **kwargs)

    def debug(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        self.log(DEBUG, msg, *args, **kwargs)

    def info(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        self.log(INFO, msg, *args, **kwargs)

    def warning(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        self.log(WARNING, msg, *args, **kwargs)

    def error(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        self.log(ERROR, msg, *args, **kwargs)

    def exception(self, msg: Any, *args: Any, exc_info: Any = True, **kwargs: Any) -> None:
        self.log(ERROR, msg, *args, exc_info=exc_info, **kwargs)

    def critical(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        self.log(CRITICAL, msg, *args, **kwargs)

    def isEnabledFor(self, level: object) -> bool:  # noqa: N802
        return self.logger.isEnabledFor(level)


def module_members(sink: Callable[[], Any]) -> Mapping[str, Any]:
    """The names of the tool's ``logging`` module, bound to one namespace's loggers.
    ``sink()`` returns the object whose ``log``, ``filename`` and ``source`` are the
    current call's."""
    manager = _Manager(sink)
    manager.loggers["root"] = Logger("root", DEBUG, manager=manager)
    root = manager.loggers["root"]

    def getLogger(name: Any = None) -> Logger:  # noqa: N802
        if name is None or name == "root":
            return root
        if not isinstance(name, str):
            raise TypeError("A logger name must be a string")
        return manager.get(str.__str__(name))

    def basicConfig(**kwargs: Any) -> None:  # noqa: N802
        for key in kwargs:
            if key in _REFUSED_BASIC_CONFIG:
                raise ValueError(
                    f"logging.basicConfig({key}=...) is not available to tools: {_REFUSED_BASIC_CONFIG[key]}"
                )
            if key not in _BASIC_CONFIG_KEYS:
                raise ValueError(f"Unrecognised argument(s): {key}")
        if "level" in kwargs:
            _check_level(kwargs["level"])  # validated as the standard library does; never narrows
        for handler in kwargs.get("handlers") or ():
            _check_handler(handler)

    def disable(level: Any = CRITICAL) -> None:
        manager.disabled_up_to = _check_level(level)

    def module_level(level: int) -> Callable[..., None]:
        def emit(msg: Any, *args: Any, **kwargs: Any) -> None:
            root.log(level, msg, *args, **kwargs)

        return emit

    def exception(msg: Any, *args: Any, exc_info: Any = True, **kwargs: Any) -> None:
        root.log(ERROR, msg, *args, exc_info=exc_info, **kwargs)

    def log(level: Any, msg: Any, *args: Any, **kwargs: Any) -> None:
        root.log(level, msg, *args, **kwargs)

    return MappingProxyType(
        {
            "getLogger": getLogger,
            "Logger": Logger,
            "LoggerAdapter": LoggerAdapter,
            "NullHandler": NullHandler,
            "StreamHandler": StreamHandler,
            "Formatter": Formatter,
            "basicConfig": basicConfig,
            "getLevelName": getLevelName,
            "disable": disable,
            "debug": module_level(DEBUG),
            "info": module_level(INFO),
            "warning": module_level(WARNING),
            "warn": module_level(WARNING),
            "error": module_level(ERROR),
            "exception": exception,
            "critical": module_level(CRITICAL),
            "fatal": module_level(CRITICAL),
            "log": log,
            "CRITICAL": CRITICAL,
            "FATAL": FATAL,
            "ERROR": ERROR,
            "WARNING": WARNING,
            "WARN": WARN,
            "INFO": INFO,
            "DEBUG": DEBUG,
            "NOTSET": NOTSET,
        }
    )
