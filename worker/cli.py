"""The ``toolpool`` command line.

    toolpool run TOOL.py FUNCTION [--conv conv.json] [--args args.json] [--deadline-ms N]
    toolpool demo
    toolpool serve | deploy | call | egress | secret   (see worker/cli_service.py)

``run`` compiles the tool in this process (compilation runs no tool code) and runs the
call in a confined child of a private pool, never in this process. It prints the result
JSON on stdout and exits 0 when the status is ``ok``, 1 for any other status, 2 for bad
input (naming the file, line or field) and 3 when the host cannot confine a child.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_TOOL_FAILED, EXIT_BAD_INPUT, EXIT_NO_CONFINEMENT = 0, 1, 2, 3


class UsageError(Exception):
    """Bad command-line input; the message names the file, line or field."""


def load_json_file(path: str | None, what: str, default: Any) -> Any:
    if path is None:
        return default
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{what} {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise UsageError(f"{what} {path}: not UTF-8 ({exc.reason})") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{what} {path}: line {exc.lineno} column {exc.colno}: {exc.msg}") from exc


def add_pool_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--mode", choices=("fresh", "reuse"), default="fresh",
                        help="fresh: a new process per call (default); reuse: warm per tenant+version")
    parser.add_argument("--insecure-no-confinement", action="store_true",
                        help="DEVELOPMENT ONLY: run children without namespaces/seccomp/uid drop")


def pool_config(args: argparse.Namespace, **overrides: Any):
    from sandbox.confine import ConfinementConfig
    from sandbox.pool import PoolConfig

    confinement = ConfinementConfig(enabled=not args.insecure_no_confinement)
    return PoolConfig(mode=args.mode, confinement=confinement, **overrides)


def print_result(result) -> int:
    sys.stdout.write(result.to_json(indent=2) + "\n")
    return EXIT_OK if result.ok else EXIT_TOOL_FAILED


def cmd_run(args: argparse.Namespace) -> int:
    from sandbox.call import CallRequest
    from sandbox.compiler import compile_bundle
    from sandbox.errors import CompileFailure, ConfinementUnavailable, InvalidInput
    from sandbox.pool import Pool
    from sandbox.result import Result

    try:
        source = Path(args.tool).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"tool {args.tool}: {exc}") from exc
    conversation = load_json_file(args.conv, "conv", {})
    if not isinstance(conversation, dict):
        raise UsageError(f"conv {args.conv}: must be a JSON object")
    call_args = load_json_file(args.args, "args", {})
    # Outbound HTTP (issue 8): the egress policy for this run, from --allow-host/--allow-address.
    from sandbox.egress import policy_from_flags

    try:
        egress = policy_from_flags(args.allow_host or [], args.allow_address or [])
    except ValueError as exc:
        raise UsageError(f"egress: {exc}") from exc
    try:
        bundle = compile_bundle({Path(args.tool).name: source})
    except CompileFailure as exc:
        return print_result(Result(status=exc.status, error=exc.to_error_info()))
    request = CallRequest(
        tenant="local",
        bundle=bundle,
        function=args.function,
        args=call_args,
        conversation=conversation,
        deadline_ms=args.deadline_ms,
        egress=egress,
    )
    try:
        with Pool(pool_config(args, ready_children=1)) as pool:
            result = pool.execute(request)
    except InvalidInput as exc:
        raise UsageError(f"invalid input: {exc}") from exc
    except ConfinementUnavailable as exc:
        print(f"toolpool: {exc}", file=sys.stderr)
        return EXIT_NO_CONFINEMENT
    return print_result(result)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="toolpool", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run one tool function in a confined child and print the result")
    run.add_argument("tool", help="the tool's Python source file")
    run.add_argument("function", help="the function to call, e.g. start_function")
    run.add_argument("--conv", help="conv.json: state, env, channel_type, caller_number, callee_number, "
                                    "sip_headers, integration_attributes, variants, variant, secrets")
    run.add_argument("--args", help="args.json: a JSON object (keyword arguments) or array (positional)")
    run.add_argument("--deadline-ms", type=int, default=None,
                     help="the caller's deadline, capped at 1000 ms for start_function, 5000 ms otherwise")
    # Outbound HTTP (issue 8): without either flag the tool has no egress at all.
    run.add_argument("--allow-host", action="append", metavar="[SCHEME://]HOST[:PORT]",
                     help="let the tool's requests reach HOST (repeatable): api.example.com or *.example.com; "
                          "https on its default port unless a scheme (http://) or port is given")
    run.add_argument("--allow-address", action="append", metavar="ADDRESS[/PREFIX][:PORT]",
                     help="name a loopback, private or link-local address explicitly (repeatable), "
                          "for local testing: 127.0.0.1:8080, [::1]:8080, 10.0.0.0/8")
    add_pool_arguments(run)
    run.set_defaults(handler=cmd_run)

    from worker import cli_service, demo

    demo.add_command(sub)
    cli_service.add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except UsageError as exc:
        print(f"toolpool: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    # Run the importable module, not this __main__ copy: the service commands import
    # worker.cli, and two copies of it would hold two different UsageError classes.
    from worker.cli import main as _main

    sys.exit(_main())
