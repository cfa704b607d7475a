"""The ``log`` a tool writes to: ``log.debug/info/warning/error(message)``.

Runs in the confined child, next to the tool, which is handed the ``Log`` instance
itself. Messages are coerced with ``str()``, which may run the tool's own ``__str__``;
that is acceptable here because it runs with the tool's own privileges, and the result
is re-made into an exact ``str`` so a lying subclass cannot survive into the reply.

The caps come from the call's limits (``log_bytes``, ``log_records``). The first record
that would pass either cap is dropped, as is everything after it, and ``overflowed``
becomes true for good; the runtime turns that into the ``output_limit`` status. Byte
use is measured as the record's JSON encoding, the form it travels in.

What a tool can reach is the four level methods and the read-only ``overflowed``.
The record list and the counters live in underscore-named slots: RestrictedPython
refuses those names at compile time and the runtime's getattr guard refuses them too.
The runtime reads the records with ``log._export()``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

DEFAULT_LOG_BYTES = 64 * 1024  # same defaults as sandbox.policy.Limits
DEFAULT_LOG_RECORDS = 1_000
_RECORD_SEPARATOR_BYTES = 1  # the "," between records in the reply's JSON array


class Log:
    """The tool's logger for one call. Records are ``[level, message]`` lists."""

    __slots__ = ("_bytes_left", "_overflowed", "_records", "_records_left")

    def __init__(self, limits: Mapping[str, Any] | None = None):
        limits = limits or {}
        self._records: list[list[str]] = []
        self._bytes_left = int(limits.get("log_bytes", DEFAULT_LOG_BYTES))
        self._records_left = int(limits.get("log_records", DEFAULT_LOG_RECORDS))
        self._overflowed = False

    def debug(self, message: Any) -> None:
        self._write("debug", message)

    def info(self, message: Any) -> None:
        self._write("info", message)

    def warning(self, message: Any) -> None:
        self._write("warning", message)

    def error(self, message: Any) -> None:
        self._write("error", message)

    @property
    def overflowed(self) -> bool:
        """True once a record was dropped for passing a cap. It never goes back."""
        return self._overflowed

    def _export(self) -> list[list[str]]:
        """The kept records, as fresh lists, for the runtime's reply."""
        return [list(record) for record in self._records]

    def _write(self, level: str, message: Any) -> None:
        if self._overflowed:
            return
        text = _as_text(message)
        # Every character is at least one byte, so this skips encoding a message that
        # cannot fit however it is encoded.
        if self._records_left < 1 or len(text) > self._bytes_left:
            self._overflowed = True
            return
        size = len(json.dumps([level, text], ensure_ascii=False).encode("utf-8")) + _RECORD_SEPARATOR_BYTES
        if size > self._bytes_left:
            self._overflowed = True
            return
        self._records.append([level, text])
        self._records_left -= 1
        self._bytes_left -= size


def _as_text(message: Any) -> str:
    """``str(message)`` as an exact, UTF-8-encodable str."""
    text = message if type(message) is str else str(message)
    if type(text) is not str:
        # A tool's __str__ may return a str subclass; str.__str__ copies it to an exact str.
        text = str.__str__(text)
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            # Lone surrogates cannot travel as UTF-8; show them escaped rather than fail.
            text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text
