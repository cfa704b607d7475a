"""Tracebacks and exception texts as a customer sees them: their own frames only.

Runs in the confined child. Used for a failed call's error (``sandbox/child/entry.py``)
and for ``logging.exception`` (``sandbox/child/modules/toollogging.py``). Only frames of
the customer's file are shown, with its source lines: the runtime's own frames, paths and
code never appear. Every text is capped and made valid UTF-8, so a deep recursion over a
long line, or a lone surrogate in a message, cannot blow up or break the reply. The
supervisor redacts secrets from whatever this produces.
"""

from __future__ import annotations

import itertools

from sandbox.child.values import type_name

MESSAGE_CHARS = 2_000
SOURCE_LINE_CHARS = 200
TRACEBACK_FRAMES = 40  # innermost and outermost halves are kept
REPEATS_SHOWN = 3  # like CPython: identical frames beyond this collapse into one line


def clean(text: str, cap: int) -> str:
    """Valid UTF-8 (lone surrogates become backslash escapes) and at most ``cap`` chars."""
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    if len(text) > cap:
        text = text[:cap] + f"... [{len(text) - cap} more characters]"
    return text


def describe(exc: BaseException) -> str:
    """``Kind: message`` for an exception, the way CPython's last traceback line reads.

    ``str(exc)`` may run a ``__str__`` the tool defined: callers do this while the call
    is still the tool's (its deadline armed), never in the reply path."""
    name = type_name(type(exc))  # the C-level name: a metaclass cannot answer for it
    try:
        text = str(exc)
        if type(text) is not str:
            text = str.__str__(text)
    except BaseException:  # noqa: BLE001 - a tool-defined __str__ may raise anything
        text = "<exception message could not be rendered>"
    return clean(f"{name}: {text}" if text else name, MESSAGE_CHARS)


def customer_frames(exc: BaseException, filename: str) -> list[tuple[str, int]]:
    frames = []
    tb = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename == filename:
            frames.append((code.co_name, tb.tb_lineno))
        tb = tb.tb_next
    return frames


def trimmed_traceback(exc: BaseException, filename: str, source: str) -> tuple[str, int | None]:
    """Format the traceback keeping only frames of the customer's file.

    Repeated frames collapse as CPython collapses them, source lines and the frame count
    are capped. Returns the text and the line of the innermost customer frame.
    """
    lines = source.splitlines()
    frames = customer_frames(exc, filename)
    last_line = frames[-1][1] if frames else None
    if last_line is None and isinstance(exc, SyntaxError) and exc.lineno:
        last_line = exc.lineno
    out = ["Traceback (most recent call last):"]
    shown: list[tuple[str, int] | int | str] = []  # a frame, a count of collapsed repeats, a note
    for frame, run in itertools.groupby(frames):
        count = sum(1 for _ in run)
        shown.extend([frame] * min(count, REPEATS_SHOWN))
        if count > REPEATS_SHOWN:
            shown.append(count - REPEATS_SHOWN)
    if len(shown) > TRACEBACK_FRAMES:
        half = TRACEBACK_FRAMES // 2
        shown = [*shown[:half], f"... {len(shown) - TRACEBACK_FRAMES} frames omitted ...", *shown[-half:]]
    for item in shown:
        if isinstance(item, int):
            out.append(f"  [Previous line repeated {item} more times]")
        elif isinstance(item, str):
            out.append(f"  {item}")
        else:
            name, lineno = item
            out.append(f'  File "{filename}", line {lineno}, in {name}')
            if 0 < lineno <= len(lines):
                out.append("    " + clean(lines[lineno - 1].strip(), SOURCE_LINE_CHARS))
    out.append(describe(exc))
    return "\n".join(out), last_line
