"""How the command line prints: for people on a terminal, for programs on a pipe.

A command that prints a result or a listing prints JSON when ``--json`` is given or
stdout is not a terminal (``wants_json``), exactly the JSON the API returns; on a
terminal it prints a short summary instead, in colour unless NO_COLOR is set
(https://no-color.org) or TERM is ``dumb``. Errors never come through here: they go to
stderr as one line (``worker/cli/root.py``).

Trusts its inputs as already validated (results come from the supervisor or the
server); text from a tool is printed as text, never interpreted.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterable, Sequence
from typing import Any

import click

_STATUS_COLOURS = {
    "ok": "green",
    "timeout": "yellow",
    "cpu_limit": "yellow",
    "memory_limit": "yellow",
    "output_limit": "yellow",
}
_LEVEL_COLOURS = {"debug": "bright_black", "info": None, "warning": "yellow", "error": "red"}


def wants_json(flag: bool) -> bool:
    """JSON with ``--json`` or when stdout is not a terminal; a summary otherwise."""
    return flag or not sys.stdout.isatty()


def _colour() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def style(text: str, fg: str | None = None, *, bold: bool = False, dim: bool = False) -> str:
    return click.style(text, fg=fg, bold=bold, dim=dim) if _colour() else text


def print_json(value: Any, *, compact: bool = False) -> None:
    text = json.dumps(value, ensure_ascii=False, indent=None if compact else 2)
    click.echo(text)


def print_lines(lines: Iterable[str]) -> None:
    for line in lines:
        click.echo(line)


def _value(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _usage_line(usage: dict[str, Any]) -> str:
    mib = usage.get("peak_rss_bytes", 0) / (1024 * 1024)
    http = (
        f", {usage['http_requests']} HTTP requests ({usage['http_bytes']} bytes)" if usage.get("http_requests") else ""
    )
    return f"{usage.get('wall_ms', 0):.1f} ms wall, {usage.get('cpu_ms', 0):.1f} ms CPU, {mib:.1f} MiB peak{http}"


def result_summary(result: dict[str, Any], title: str) -> list[str]:
    """A result (``Result.to_dict()``) as lines for a terminal: status, action, state
    changes, logs, error and usage."""
    status = result["status"]
    lines = [
        f"{style(status, _STATUS_COLOURS.get(status, 'red'), bold=True)}  {title}  "
        f"{style(_usage_line(result.get('usage') or {}), dim=True)}"
    ]
    action = result.get("action") or {}
    if action:
        lines.append(style("action", bold=True))
        width = max(len(key) for key in action)
        lines += [f"  {key.ljust(width)}  {_value(value)}" for key, value in action.items()]
    changes = result.get("state_changes") or {}
    if changes.get("set") or changes.get("deleted"):
        lines.append(style("state changes", bold=True))
        lines += [style(f"  + {key} = {_value(value)}", "green") for key, value in changes.get("set", {}).items()]
        lines += [style(f"  - {key}", "red") for key in changes.get("deleted", [])]
    if result.get("logs"):
        lines.append(style("logs", bold=True))
        lines += [
            f"  {style(record['level'].ljust(7), _LEVEL_COLOURS.get(record['level']))} {record['message']}"
            for record in result["logs"]
        ]
    error = result.get("error")
    if error:
        where = f" ({error['file']}, line {error['line']})" if error.get("file") and error.get("line") else ""
        lines.append(style("error", "red", bold=True) + f"  {error['kind']}: {error['message']}{where}")
        if error.get("traceback"):
            lines += ["  " + line for line in error["traceback"].rstrip().splitlines()]
    return lines


def print_result(result: dict[str, Any], title: str, as_json: bool, *, compact: bool = False) -> None:
    if wants_json(as_json):
        print_json(result, compact=compact)
    else:
        print_lines(result_summary(result, title))


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Columns padded to their widest cell; the header dim."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=False)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(str(cell).ljust(width) for cell, width in zip(cells, widths, strict=False)).rstrip()

    return [style(line(headers), bold=True)] + [line(row) for row in rows]


def local_time(unix_ms: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(unix_ms / 1000)) if unix_ms else "-"


def iso_utc(unix_ms: int) -> str | None:
    if not unix_ms:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(unix_ms / 1000)) + f".{unix_ms % 1000:03d}Z"


def problem_lines(problems: Iterable[tuple[str | None, int | None, str]]) -> list[str]:
    """Compile problems as ``FILE, line N: what is refused; what to do instead``."""
    lines = []
    for file, line, message in problems:
        where = f"{file}, line {line}" if file and line else (file or "")
        lines.append(f"{style(where, bold=True)}: {message}" if where else message)
    return lines
