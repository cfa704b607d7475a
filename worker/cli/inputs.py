"""What the user gives the command line, read and checked: JSON files, secrets, egress
flags, tokens. Each function raises ``BadInput`` naming the flag or file and what to do.

Trusts nothing it reads: files may be missing, not UTF-8 or not JSON; flags may be
misspelt. Secret values are never put into a message.
"""

from __future__ import annotations

import ipaddress
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from worker.cli.errors import BadInput


def load_json_file(path: str | None, what: str, default: Any) -> Any:
    """The JSON in ``path``, or ``default`` when no path was given."""
    if path is None:
        return default
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise BadInput(f"{what} {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise BadInput(f"{what} {path}: not UTF-8 ({exc.reason})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInput(f"{what} {path}: line {exc.lineno} column {exc.colno}: {exc.msg}") from None


def load_conversation(path: str | None) -> dict[str, Any]:
    conversation = load_json_file(path, "--conv", {})
    if not isinstance(conversation, dict):
        raise BadInput(f"--conv {path}: must be a JSON object with state, env, variants, secrets...")
    return conversation


def secrets_from(secrets_file: str | None, flags: Sequence[str]) -> dict[str, str]:
    """``--secrets-file`` (a JSON object of names to strings), then ``--secret NAME=VALUE``
    flags on top of it."""
    secrets: dict[str, str] = {}
    if secrets_file is not None:
        data = load_json_file(secrets_file, "--secrets-file", {})
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise BadInput(f"--secrets-file {secrets_file}: must be a JSON object mapping secret names to strings")
        secrets.update(data)
    for flag in flags:
        name, equals, value = flag.partition("=")
        if not equals or not name:
            raise BadInput(f"--secret {name or flag!r}: expected NAME=VALUE (or put secrets in --secrets-file)")
        secrets[name] = value
    return secrets


def _host_and_port(spec: str) -> tuple[str, str, str | None]:
    """``[SCHEME://]HOST[:PORT]`` -> (scheme, host, port text or None), without judging them."""
    scheme, _, rest = spec.rpartition("://")
    if rest.startswith("["):
        host, _, tail = rest[1:].partition("]")
        return scheme, host, tail[1:] if tail.startswith(":") else None
    if rest.count(":") == 1:
        host, port = rest.split(":")
        return scheme, host, port
    return scheme, rest, None


def _address_flag(host: str, port: str | None) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"--allow-address {shown}:{port}" if port else f"--allow-address {shown}"


def _address_instead(spec: str, allow_addresses: Sequence[str]) -> str | None:
    """Why ``--allow-host spec`` cannot work and the ``--allow-address`` line to use, or None."""
    _, host, port = _host_and_port(spec)
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None:
        kind = (
            "a loopback"
            if address.is_loopback
            else "a private"
            if address.is_private
            else "a link-local"
            if address.is_link_local
            else "an"
        )
        return (
            f"--allow-host {spec}: {host} is {kind} address, and --allow-host takes DNS names; "
            f"use {_address_flag(host, port)}"
        )
    if (host == "localhost" or host.endswith(".localhost")) and not allow_addresses:
        return (
            f"--allow-host {spec}: {host} is this machine's loopback, which a host rule never reaches; "
            f"use {_address_flag('127.0.0.1', port)} and call http://127.0.0.1{':' + port if port else ''} "
            "from the tool"
        )
    return None


def egress_from_flags(allow_hosts: Sequence[str], allow_addresses: Sequence[str]) -> Any:
    """The ``EgressPolicy`` the flags describe (``sandbox/egress/policy.py policy_from_flags``), or
    None when neither flag is given: no egress at all."""
    from sandbox.egress.policy import policy_from_flags

    for spec in allow_hosts:
        instead = _address_instead(spec, allow_addresses)
        if instead:
            raise BadInput(instead)
    try:
        return policy_from_flags(list(allow_hosts), list(allow_addresses))
    except ValueError as exc:
        raise BadInput(f"egress: {exc}") from None


def resolve_token(token: str | None, token_file: str | None) -> str:
    """The bearer token: ``--token``, ``--token-file``, TOOLPOOL_TOKEN, then the development
    token a local ``toolpool serve`` wrote into its state directory."""
    from worker.config import read_token_file, state_dir

    if token:
        return token
    if token_file:
        try:
            found = read_token_file(Path(token_file))
        except OSError as exc:
            raise BadInput(f"--token-file {token_file}: {exc.strerror}") from None
        if found is None:
            raise BadInput(f"--token-file {token_file}: no such file, or it is empty")
        return found
    if os.environ.get("TOOLPOOL_TOKEN"):
        return os.environ["TOOLPOOL_TOKEN"]
    path = state_dir() / "dev-token"
    try:
        found = read_token_file(path)
    except OSError as exc:
        raise BadInput(f"development token {path}: {exc.strerror}; set TOOLPOOL_TOKEN or give --token-file") from None
    if found is None:
        raise BadInput(
            f"no token: set TOOLPOOL_TOKEN or give --token-file; a local `toolpool serve` writes its "
            f"development token to {path} (TOOLPOOL_STATE_DIR moves it)"
        )
    return found
