"""The service's commands for the ``toolpool`` CLI: ``serve``, ``deploy``, ``call``, ``egress``, ``secret``.

    toolpool serve [--port 50051] [--config toolpool.toml] [--store URL] [--insecure-no-confinement]
    toolpool deploy --tenant T [--alias latest] PATH...        (files or directories of *.py)
    toolpool call --tenant T (--version ID | --alias NAME) FUNCTION [--args F] [--conv F]
    toolpool egress set --tenant T (--allow-host [SCHEME://]HOST[:PORT] | --allow-address ADDR[:PORT])... | --off
    toolpool egress get --tenant T
    toolpool secret rotate-key [--config toolpool.toml] [--store URL]

``serve`` runs on embedded defaults (127.0.0.1:50051, SQLite under ~/.local/state/toolpool,
a development token written beside it) unless a config file, TOOLPOOL_* variables or
flags say otherwise; it prints one JSON line ``{"event": "serving", ...}`` on stdout once
it listens, and drains on SIGTERM or Ctrl-C. It exits 2 for a bad configuration (naming
the setting) and 5 when the store cannot be opened as configured (unreachable database,
a schema newer than this toolpool, a secrets key that does not open the stored secrets).

``secret rotate-key`` works on the store directly, not through a server: with the new
master key configured first in ``secrets.key`` (the old ones after it), it re-wraps every
secret's data key under that primary key, row by row, while replicas keep serving (they
must hold both keys until it is done). It prints ``{"rotated": N, "already": M,
"primary_key_id": ID}`` and exits 0; 2 for a bad configuration, 5 when the store cannot be
opened, 4 when the database fails part way (run it again: rows already done are skipped).

``deploy`` and ``call`` reach the server at ``--target`` (TOOLPOOL_TARGET, default
localhost:50051) with ``--token`` (TOOLPOOL_TOKEN, else the development token file).
``call`` prints the same result JSON as ``toolpool run`` and exits 0 iff its status is
``ok``, 1 for any other status; 2 for bad input (including INVALID_ARGUMENT, NOT_FOUND,
UNAUTHENTICATED, PERMISSION_DENIED), 4 when the service refused or failed the call.

``egress set`` replaces the tenant's egress policy with the one its flags describe (the
flags of ``toolpool run``, sandbox/egress.py ``policy_from_flags``), or switches outbound
HTTP off with ``--off``; it needs an operator token. ``egress get`` prints the policy.
Both print ``{"tenant": T, "policy": ...}`` JSON, the policy as the server stores it
(null: no egress); exit codes as for ``deploy``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import grpc

EXIT_RPC = 4
EXIT_STORE = 5
_CALLER_MISTAKES = {
    grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED,
}


def add_commands(subparsers: Any) -> None:
    """Registers serve, deploy and call on the toolpool CLI's subparsers."""
    serve = subparsers.add_parser("serve", help="run the gRPC service")
    serve.add_argument("--config", help="TOML configuration file (also TOOLPOOL_CONFIG)")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 50051; 0 picks a free one)")
    serve.add_argument("--db", dest="db_path", help="SQLite database path")
    serve.add_argument("--store", dest="store_url", help="store URL: sqlite:///PATH or postgresql://... "
                                                          "(also TOOLPOOL_STORE_URL)")
    serve.add_argument("--mode", choices=("fresh", "reuse"), help="pool mode (default fresh)")
    serve.add_argument("--max-concurrent", type=int, help="calls running at once")
    serve.add_argument("--insecure-no-confinement", action="store_true", default=None,
                       help="DEVELOPMENT ONLY: run children without namespaces/seccomp/uid drop")
    serve.add_argument("--log-level", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    serve.set_defaults(handler=cmd_serve)

    deploy = subparsers.add_parser("deploy", help="deploy tool files to a running service")
    _add_client_arguments(deploy)
    deploy.add_argument("paths", nargs="+", help="tool files, or directories whose *.py files are deployed")
    deploy.add_argument("--alias", help="alias to point at the new version, e.g. latest")
    deploy.set_defaults(handler=cmd_deploy)

    call = subparsers.add_parser("call", help="call a deployed tool function; prints the result JSON")
    _add_client_arguments(call)
    call.add_argument("function", help="the function to call, e.g. start_function")
    which = call.add_mutually_exclusive_group(required=True)
    which.add_argument("--version", dest="version_id", help="version id from deploy")
    which.add_argument("--alias", help="alias, e.g. latest")
    call.add_argument("--args", help="args.json: a JSON object (keyword arguments) or array (positional)")
    call.add_argument("--conv", help="conv.json: state, env, channel_type, caller_number, ...")
    call.add_argument("--deadline-ms", type=int, default=None, help="the call's budget on the server")
    call.add_argument("--timeout", type=float, default=None, help="the whole call's budget in seconds")
    call.add_argument("--bundle", nargs="*", default=None,
                      help="tool files to re-send if the server lacks the version")
    call.set_defaults(handler=cmd_call)

    egress = subparsers.add_parser("egress", help="set or show a tenant's outbound HTTP policy")
    egress_commands = egress.add_subparsers(dest="egress_command", required=True)
    egress_set = egress_commands.add_parser(
        "set", help="replace the tenant's egress policy (operator token needed)")
    _add_client_arguments(egress_set)
    egress_set.add_argument("--allow-host", action="append", default=[], metavar="[SCHEME://]HOST[:PORT]",
                            help="let the tenant's tools reach HOST (repeatable): api.example.com or "
                                 "*.example.com; https on its default port unless a scheme or port is given")
    egress_set.add_argument("--allow-address", action="append", default=[], metavar="ADDRESS[/PREFIX][:PORT]",
                            help="name a loopback, private or link-local address or network explicitly "
                                 "(repeatable): 10.0.0.5:8080, [::1]:8080, 10.1.0.0/16")
    egress_set.add_argument("--off", action="store_true", help="no outbound HTTP at all for this tenant")
    egress_set.set_defaults(handler=cmd_egress_set)
    egress_get = egress_commands.add_parser("get", help="print the tenant's egress policy")
    _add_client_arguments(egress_get)
    egress_get.set_defaults(handler=cmd_egress_get)

    secret = subparsers.add_parser("secret", help="operate on the stored secrets")
    secret_commands = secret.add_subparsers(dest="secret_command", required=True)
    rotate = secret_commands.add_parser(
        "rotate-key", help="re-wrap every secret under the primary master key (the first of secrets.key)")
    rotate.add_argument("--config", help="TOML configuration file (also TOOLPOOL_CONFIG)")
    rotate.add_argument("--store", dest="store_url", help="store URL (also TOOLPOOL_STORE_URL)")
    rotate.set_defaults(handler=cmd_secret_rotate_key)


def _add_client_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tenant", required=True)
    parser.add_argument("--target", default=os.environ.get("TOOLPOOL_TARGET", "localhost:50051"))
    parser.add_argument("--token", default=None, help="bearer token (default TOOLPOOL_TOKEN, else the dev token file)")
    parser.add_argument("--token-file", default=None, help="file holding the bearer token")


def cmd_serve(args: argparse.Namespace) -> int:
    import logging

    from sandbox.errors import ConfinementUnavailable
    from worker.cli import EXIT_BAD_INPUT, EXIT_NO_CONFINEMENT
    from worker.config import ConfigError, load_config
    from worker.server import announce_json, serve_forever
    from worker.store import StoreStartupError

    overrides = {
        "host": args.host, "port": args.port, "db_path": args.db_path, "store.url": args.store_url,
        "pool.mode": args.mode,
        "admission.max_concurrent": args.max_concurrent,
        "pool.insecure_no_confinement": args.insecure_no_confinement, "log_level": args.log_level,
    }
    try:
        config = load_config(args.config, overrides=overrides)
    except ConfigError as exc:
        print(f"toolpool serve: configuration: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    logging.getLogger().setLevel(config.log_level)
    try:
        return serve_forever(config, announce=lambda port: announce_json(port, config.host))
    except ConfinementUnavailable as exc:
        print(f"toolpool serve: {exc}", file=sys.stderr)
        return EXIT_NO_CONFINEMENT
    except StoreStartupError as exc:
        print(f"toolpool serve: {exc}", file=sys.stderr)
        return EXIT_STORE


def cmd_secret_rotate_key(args: argparse.Namespace) -> int:
    from worker.cli import EXIT_BAD_INPUT
    from worker.config import ConfigError, load_config
    from worker.store import StorageUnavailable, StoreStartupError, open_store

    try:
        config = load_config(args.config, overrides={"store.url": args.store_url})
    except ConfigError as exc:
        print(f"toolpool secret rotate-key: configuration: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        store = open_store(config)
    except StoreStartupError as exc:
        print(f"toolpool secret rotate-key: {exc}", file=sys.stderr)
        return EXIT_STORE
    try:
        rotated, already = store.rotate_key()
    except StorageUnavailable as exc:
        print(f"toolpool secret rotate-key: {exc.message}; run it again once the database answers", file=sys.stderr)
        return EXIT_RPC
    finally:
        store.close()
    output = {"rotated": rotated, "already": already, "primary_key_id": store.keyring.primary.key_id,
              "store": store.url}
    sys.stdout.write(json.dumps(output, indent=2) + "\n")
    return 0


def _token(args: argparse.Namespace) -> str:
    from worker.cli import UsageError
    from worker.config import default_state_dir, read_token_file

    if args.token:
        return args.token
    if os.environ.get("TOOLPOOL_TOKEN"):
        return os.environ["TOOLPOOL_TOKEN"]
    path = Path(args.token_file) if args.token_file else default_state_dir() / "dev-token"
    token = read_token_file(path)
    if token is None:
        raise UsageError(f"no token: give --token, set TOOLPOOL_TOKEN, or start `toolpool serve` to create {path}")
    return token


def read_tool_files(paths: list[str]) -> dict[str, str]:
    """name -> source for each file, and each *.py file of each directory. Raises UsageError."""
    from worker.cli import UsageError

    files: dict[str, str] = {}
    for given in paths:
        path = Path(given)
        members = sorted(path.glob("*.py")) if path.is_dir() else [path]
        if path.is_dir() and not members:
            raise UsageError(f"{given}: no *.py files in this directory")
        for member in members:
            if member.name in files:
                raise UsageError(f"{member}: a file named {member.name} is already in the bundle")
            try:
                files[member.name] = member.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise UsageError(f"{member}: {exc}") from exc
    return files


def _rpc_failure(command: str, error: Any) -> int:
    from worker.cli import EXIT_BAD_INPUT

    reason = f" [{error.reason}]" if error.reason else ""
    print(f"toolpool {command}: {error.code.name}{reason}: {error.message}", file=sys.stderr)
    return EXIT_BAD_INPUT if error.code in _CALLER_MISTAKES else EXIT_RPC


def cmd_deploy(args: argparse.Namespace) -> int:
    from worker.cli import EXIT_TOOL_FAILED
    from worker.client import CompileFailed, ToolpoolCallError, ToolpoolClient

    files = read_tool_files(args.paths)
    with ToolpoolClient(args.target, _token(args)) as client:
        try:
            deployment = client.deploy(args.tenant, files, alias=args.alias)
        except CompileFailed as failed:
            errors = [{"file": f, "line": line, "message": m} for f, line, m in failed.errors]
            sys.stdout.write(json.dumps({"compile_errors": errors}, indent=2) + "\n")
            return EXIT_TOOL_FAILED
        except ToolpoolCallError as error:
            return _rpc_failure("deploy", error)
    output = {"version_id": deployment.version_id, "functions": list(deployment.functions),
              "created": deployment.created, "alias": args.alias}
    sys.stdout.write(json.dumps(output, indent=2) + "\n")
    return 0


def cmd_call(args: argparse.Namespace) -> int:
    from worker.cli import UsageError, load_json_file, print_result
    from worker.client import ToolpoolCallError, ToolpoolClient

    conversation = load_json_file(args.conv, "conv", {})
    if not isinstance(conversation, dict):
        raise UsageError(f"conv {args.conv}: must be a JSON object")
    call_args = load_json_file(args.args, "args", {})
    bundle = read_tool_files(args.bundle) if args.bundle else None
    with ToolpoolClient(args.target, _token(args)) as client:
        try:
            result = client.execute(
                args.tenant, args.function, version_id=args.version_id, alias=args.alias, args=call_args,
                conversation=conversation, deadline_ms=args.deadline_ms, timeout=args.timeout, bundle=bundle,
            )
        except ToolpoolCallError as error:
            return _rpc_failure("call", error)
    return print_result(result)


def cmd_egress_set(args: argparse.Namespace) -> int:
    from sandbox.egress import policy_from_flags
    from worker.cli import UsageError
    from worker.client import ToolpoolCallError, ToolpoolClient

    if args.off == bool(args.allow_host or args.allow_address):
        raise UsageError("egress set: give --allow-host/--allow-address, or --off for no egress")
    try:
        policy = policy_from_flags(args.allow_host, args.allow_address)
    except ValueError as exc:
        raise UsageError(f"egress: {exc}") from exc
    with ToolpoolClient(args.target, _token(args)) as client:
        try:
            return _print_egress(args.tenant, client.set_egress_policy(args.tenant, policy))
        except ToolpoolCallError as error:
            return _rpc_failure("egress set", error)


def cmd_egress_get(args: argparse.Namespace) -> int:
    from worker.client import ToolpoolCallError, ToolpoolClient

    with ToolpoolClient(args.target, _token(args)) as client:
        try:
            return _print_egress(args.tenant, client.get_egress_policy(args.tenant))
        except ToolpoolCallError as error:
            return _rpc_failure("egress get", error)


def _print_egress(tenant: str, policy: dict[str, Any] | None) -> int:
    sys.stdout.write(json.dumps({"tenant": tenant, "policy": policy}, indent=2) + "\n")
    return 0
