"""The customer corpus: loading the specs, running a case both ways, comparing.

Layout::

    tests/customers/tools/NN_<domain>_<what>.py   one customer's tool file, as they wrote it
    tests/customers/cases/NN_<domain>_<what>.json its spec (below)
    tests/customers/standin.py                    the plain-CPython model of the contract
    tests/customers/server.py                     the canned HTTP server for the tools' APIs

A spec::

    {
      "domain": "restaurant",                     conv defaults shared by a domain (cases/domains/)
      "hosts": ["api.tablebook.test"],           host names the tool calls (egress policy)
      "conv": {...},                              defaults for every call of this file
      "routes": [...],                            canned HTTP answers (see server.py)
      "masks": [["regex", "replacement"]],        applied to every string of both results
      "shapes": {"state.x": "int"},               compared by shape, not value
      "cases": [
        {"name": "...", "function": "...", "args": {...}, "conv": {...},
         "expect": {"status": "ok", "error_kind": "..."},   checked on the CPython run
         "masks": [...], "shapes": {...},
         "turns": [{"function", "args", "conv", "expect"}, ...]}   several calls, state carried
      ]
    }

A call's conv is ``BASE_CONV``, then the domain's, then the file's ``conv``, then the case's, then the
turn's: ``state``, ``secrets``, ``sip_headers`` and ``integration_attributes`` merge key
by key (``null`` removes a key), everything else is replaced. In a later turn the state
starts from the previous turn's resulting state (each run carries its own). Every string
``{port}`` in a conv becomes the canned server's port.

Masks and shapes are for what legitimately changes between two runs: the clock, random
numbers, uuids. A mask replaces every match of its regex in every string (so a value of
the wrong shape is left as it is and differs); a shape (``int``, ``float``, ``str``,
``uuid``, ``hex``, ``bool``, ``list``, ``dict``, or ``re:<regex>``) checks the value at a
dotted path (``state.x``, ``action.content``, ``state.items.0.id``; a ``state.`` path
covers ``state_changes.set.`` too) and then compares equal.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TOOLS = HERE / "tools"
CASES = HERE / "cases"
STANDIN = HERE / "standin.py"

BASE_STATE = {
    "from_": "+12125550147",
    "to": "+18885550100",
    "call_sid": "CA5f0e3c0d9b8a7f6e5d4c3b2a1f0e9d8c",
    "asr_lang_code": "en-US",
    "tts_lang_code": "en-US",
    "shared_id": None,
    "handoff": None,
    "disable_recordings": False,
    "stop_recording": False,
    "use_tts_for_responses": False,
    "asr_provider": "default",
    "asr_config": {},
    "listen_for_sms": False,
}

BASE_CONV = {
    "state": BASE_STATE,
    "env": "live",
    "channel_type": "sip.polyai",
    "caller_number": "+12125550147",
    "callee_number": "+18885550100",
    "sip_headers": {},
    "integration_attributes": {},
    "variants": {},
    "variant": None,
    "secrets": {},
}

_MERGED = ("state", "secrets", "sip_headers", "integration_attributes")


def merge_conv(base: dict, override: dict | None) -> dict:
    out = copy.deepcopy(base)
    for key, value in (override or {}).items():
        if key in _MERGED and isinstance(value, dict):
            target = dict(out.get(key) or {})
            for k, v in value.items():
                if v is None and key != "state":
                    target.pop(k, None)
                else:
                    target[k] = copy.deepcopy(v)
            out[key] = target
        else:
            out[key] = copy.deepcopy(value)
    return out


def substitute(value: Any, port: int) -> Any:
    if isinstance(value, str):
        return value.replace("{port}", str(port))
    if isinstance(value, list):
        return [substitute(v, port) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, port) for k, v in value.items()}
    return value


# ---------------------------------------------------------------------------------------
# Specs
# ---------------------------------------------------------------------------------------


@dataclass
class Turn:
    function: str
    args: Any
    conv: dict
    expect: dict
    state_override: dict = field(default_factory=dict)


@dataclass
class Case:
    tool: Path
    name: str
    hosts: list[str]
    turns: list[Turn]
    masks: list[tuple[str, str]] = field(default_factory=list)
    shapes: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.tool.stem}::{self.name}"


def load_spec(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def load_cases() -> list[Case]:
    cases = []
    for path in sorted(CASES.glob("*.json")):
        spec = load_spec(path)
        tool = TOOLS / spec.get("tool", path.stem + ".py")
        file_conv = BASE_CONV
        if spec.get("domain"):
            file_conv = merge_conv(file_conv, load_spec(CASES / "domains" / f"{spec['domain']}.json"))
        file_conv = merge_conv(file_conv, spec.get("conv"))
        for raw in spec["cases"]:
            case_conv = merge_conv(file_conv, raw.get("conv"))
            raw_turns = raw.get("turns") or [raw]
            turns = [
                Turn(
                    function=t["function"],
                    args=t.get("args", {}),
                    conv=case_conv if t is raw else merge_conv(case_conv, t.get("conv")),
                    expect=t.get("expect") or {},
                    state_override=dict((t.get("conv") or {}).get("state") or {}) if t is not raw else {},
                )
                for t in raw_turns
            ]
            cases.append(
                Case(
                    tool=tool,
                    name=raw["name"],
                    hosts=list(spec.get("hosts") or []),
                    turns=turns,
                    masks=[tuple(m) for m in (spec.get("masks") or []) + (raw.get("masks") or [])],
                    shapes={**(spec.get("shapes") or {}), **(raw.get("shapes") or {})},
                )
            )
    return cases


def all_routes() -> list[dict]:
    routes = []
    for path in sorted(CASES.glob("*.json")):
        routes.extend(load_spec(path).get("routes") or [])
    return routes


def turn_conv(turn: Turn, index: int, previous_state: dict | None, port: int) -> dict:
    conv = substitute(turn.conv, port)
    if index > 0 and previous_state is not None:
        conv["state"] = {**previous_state, **substitute(turn.state_override, port)}
    return conv


# ---------------------------------------------------------------------------------------
# The two runs
# ---------------------------------------------------------------------------------------


def run_standin(tool: Path, function: str, conv: dict, args: Any, resolve: dict[str, str]) -> dict:
    """The expectation: the tool under plain CPython with the stand-in, in a fresh process."""
    request = {"tool": str(tool), "function": function, "conv": conv, "args": args, "resolve": resolve}
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "TZ": "UTC",
        "LANG": "C.UTF-8",
        "PYTHONIOENCODING": "utf-8",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    proc = subprocess.run(
        [sys.executable, str(STANDIN)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=str(tool.parent),
    )
    if proc.returncode != 0 or not proc.stdout:
        raise AssertionError(f"yardstick: the stand-in crashed on {tool.name}:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout)


def run_sandbox(pool, tool: Path, function: str, conv: dict, args: Any, egress) -> dict:
    """The actual: the same tool through toolpool's compiler and a confined child."""
    from sandbox.compile.compiler import compile_bundle
    from sandbox.errors import CompileFailure
    from sandbox.supervisor.call import CallRequest, validate_input

    source = tool.read_text(encoding="utf-8")
    try:
        bundle = compile_bundle({tool.name: source})
    except CompileFailure as exc:
        return {
            "status": "compile_error",
            "action": {},
            "state": conv.get("state") or {},
            "state_changes": {"set": {}, "deleted": []},
            "logs": [],
            "error": {
                "kind": "CompileError",
                "message": exc.message,
                "file": exc.file,
                "line": exc.line,
                "problems": [str(p) for p in exc.errors],
            },
        }
    request = CallRequest(
        tenant="customers", bundle=bundle, function=function, input=validate_input(conv, args), egress=egress
    )
    return pool.execute(request).to_dict()


# ---------------------------------------------------------------------------------------
# Comparing
# ---------------------------------------------------------------------------------------

_HTTP_LINE = re.compile(r"^http (?P<method>[A-Z]+) (?P<host>\S+) (?P<status>\S+) [0-9.]+ ms(?::.*)?$")

SHAPES = {
    "int": lambda v: type(v) is int,
    "float": lambda v: type(v) in (int, float) and type(v) is not bool,
    "str": lambda v: type(v) is str,
    "bool": lambda v: type(v) is bool,
    "list": lambda v: type(v) is list,
    "dict": lambda v: type(v) is dict,
    "uuid": lambda v: (
        type(v) is str and re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", v)
    ),
    "hex": lambda v: type(v) is str and re.fullmatch(r"[0-9a-fA-F]+", v),
}


def _shape_ok(shape: str, value: Any) -> bool:
    if shape.startswith("re:"):
        return type(value) is str and re.fullmatch(shape[3:], value) is not None
    return bool(SHAPES[shape](value))


def _mask(value: Any, masks: list[tuple[str, str]]) -> Any:
    if isinstance(value, str):
        for pattern, replacement in masks:
            value = re.sub(pattern, replacement, value)
        return value
    if isinstance(value, list):
        return [_mask(v, masks) for v in value]
    if isinstance(value, dict):
        return {k: _mask(v, masks) for k, v in value.items()}
    return value


def _apply_shape(view: dict, path: str, shape: str) -> None:
    parts = path.split(".")
    node: Any = view
    for part in parts[:-1]:
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return
    last = parts[-1]
    if isinstance(node, list) and last.isdigit() and int(last) < len(node):
        key: Any = int(last)
    elif isinstance(node, dict) and last in node:
        key = last
    else:
        return
    value = node[key]
    node[key] = f"<{shape}>" if _shape_ok(shape, value) else f"<not {shape}: {value!r}>"


def view(result: dict, masks: list[tuple[str, str]], shapes: dict[str, str]) -> dict:
    """What is compared: status, error kind, action, state, state changes, tool logs, http lines."""
    logs, http = [], []
    for record in result.get("logs") or []:
        match = _HTTP_LINE.match(record["message"])
        if match:
            status = match["status"] if match["status"].isdigit() else "failed"
            http.append(f"{record['level']} http {match['method']} {match['host']} {status}")
        else:
            logs.append([record["level"], record["message"]])
    error = result.get("error")
    out = {
        "status": result["status"],
        "error_kind": error["kind"] if error else None,
        "action": result.get("action") or {},
        "state": result.get("state") or {},
        "state_changes": result.get("state_changes") or {"set": {}, "deleted": []},
        "logs": logs,
        "http": http,
    }
    # A JSON round trip, not a deep copy: a result may share objects between its state and
    # its state changes, and each place must be shaped on its own.
    out = json.loads(json.dumps(out))
    for path, shape in shapes.items():
        _apply_shape(out, path, shape)
        if path.startswith("state."):
            _apply_shape(out, "state_changes.set." + path[len("state.") :], shape)
    return _mask(out, masks)


_QUOTED = re.compile(r"'[^']*'")


def first_line(text: str) -> str:
    return (text or "").strip().splitlines()[0] if (text or "").strip() else ""


def reason(expected: dict, actual: dict, exp_view: dict, act_view: dict) -> str | None:
    """The first line of why ``actual`` is not ``expected``, or None when they agree."""
    if act_view["status"] != exp_view["status"]:
        error = actual.get("error") or {}
        if actual["status"] == "compile_error":
            problem = (error.get("problems") or [error.get("message", "")])[0]
            where = re.match(r"^(?P<file>\S+\.py) line (?P<line>\d+): (?P<msg>.*)$", first_line(problem))
            if where:
                return f"compile: {where['msg']} (line {where['line']})"
            return f"compile: {first_line(problem)}"
        message = first_line(error.get("message") or "")
        return (
            f"{actual['status']} (expected {exp_view['status']}): {error.get('kind')}: {message}"
            if error
            else f"status {actual['status']} (expected {exp_view['status']})"
        )
    for key in ("error_kind", "action", "state_changes", "state", "logs", "http"):
        if act_view[key] != exp_view[key]:
            return f"mismatch in {key}: got {_short(act_view[key])}, expected {_short(exp_view[key])}"
    return None


def _short(value: Any, limit: int = 300) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= limit else text[:limit] + "..."


def generic_problem(message: str) -> str:
    """A compile problem with the tool's own names taken out: private names (``_x``) and
    name-mangled ones (``__x``) become one group each; dunders (``__init__``) stay, as
    each one is its own question for the sandbox."""
    message = re.sub(r"^\S+\.py line \d+: ", "", message)
    message = re.sub(r" \(tools may import: .*\)$", "", message)

    def name(match: re.Match) -> str:
        text = match.group(1)
        if text.startswith("__") and text.endswith("__"):
            return f"'{text}'"
        if text.startswith("__"):
            return "'__*' (name-mangled)"
        return "'_*' (private)"

    return re.sub(r"'(_[A-Za-z0-9_]+)'", name, message)


def cause(reason_line: str) -> str:
    """A reason with the specifics taken out, to group failures by cause."""
    text = re.sub(r" \(line \d+\)$", "", reason_line)
    if text.startswith("compile: "):
        return "compile: " + generic_problem(text[len("compile: ") :])
    if text.startswith("mismatch in "):
        return text.split(":", 1)[0]
    return text
