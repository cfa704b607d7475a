"""The operator's commands: ``serve``, ``deploy``, ``call``, ``versions`` and ``aliases``.

``serve`` runs on embedded defaults (127.0.0.1:50051; SQLite, its secrets key and a
development token in the state directory: ``--state-dir``, else TOOLPOOL_STATE_DIR, else
$XDG_STATE_HOME/toolpool, else ~/.local/state/toolpool) unless a config file,
TOOLPOOL_* variables or flags say otherwise. Once it listens it prints one line on
stdout: for a person, where it serves and where the token is; on a pipe, the JSON
``{"event": "serving", "host": ..., "port": ...}``. It drains on SIGTERM or Ctrl-C. Exit
2 for a bad configuration or an address it cannot listen on (a busy port is named
within a second, before the sandbox starts), 3 when the host cannot confine, 5 when the
store cannot be opened as configured.

The other commands are clients (``toolpool.Client``) of the server at ``--target``
(TOOLPOOL_TARGET, default localhost:50051) with ``--token`` / ``--token-file`` /
TOOLPOOL_TOKEN, else a local server's development token. They print a summary on a
terminal and JSON on a pipe or with ``--json``. ``call`` exits as ``run`` does: 0 when
the status is ok, 1 for another status. Every command exits 2 for the caller's mistakes
(a bad flag or file; INVALID_ARGUMENT, NOT_FOUND, UNAUTHENTICATED, PERMISSION_DENIED from
the server) and 4 when the server could not be reached or refused or failed the request
otherwise, each with one line saying what to do.

``secret`` and ``egress`` are in ``worker/cli/tenant.py``, and use this module's
``ServerClient``.

Trusts the server's answers as far as the client does; the user's flags and files are
checked in ``worker/cli/inputs.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
import grpc

from worker.cli.common import client_options, command, config_option, json_option, pool_options
from worker.cli.errors import EXIT_OK, EXIT_TOOL_FAILED, BadInput, CliError, NoConfinement, ServiceFailed, StoreFailed
from worker.cli.inputs import load_conversation, load_json_file, resolve_token
from worker.cli.output import (
    iso_utc,
    local_time,
    print_json,
    print_lines,
    print_result,
    problem_lines,
    style,
    table,
    wants_json,
)

_CALLER_MISTAKES = {
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.UNAUTHENTICATED,
    grpc.StatusCode.PERMISSION_DENIED,
}


# -- talking to a server ---------------------------------------------------------------------


def _hint(error: Any, tenant: str) -> str:
    """What to do about a refusal, by its reason (or code when the server sent none)."""
    hints = {
        "ALIAS_NOT_FOUND": f"`toolpool aliases --tenant {tenant}` lists the aliases there are",
        "VERSION_NOT_FOUND": f"`toolpool versions --tenant {tenant}` lists the versions there are",
        "UNAUTHENTICATED_CLIENT": "use a token this server knows: TOOLPOOL_TOKEN, --token-file, or a local "
        "server's development token",
        "TENANT_NOT_ALLOWED": f"use a token whose client may act for tenant {tenant!r}",
        "OPERATOR_ONLY": "use an operator client's token (operator = true in its [[clients]] table)",
        "STORAGE_UNAVAILABLE": "the server's database is away; try again when it is back",
        "DRAINING": "the server is shutting down; try another replica or again shortly",
    }
    if error.reason in hints:
        return hints[error.reason]
    if error.code is grpc.StatusCode.DEADLINE_EXCEEDED:
        return "the server did not answer in time; give more with --timeout"
    return ""


def _failure(error: Any, target: str, tenant: str) -> CliError:
    """A client's ``CallError`` as one line (and its exit code)."""
    if error.never_sent:
        return ServiceFailed(
            f"no server at {target}: is `toolpool serve` running there? Use --target (or TOOLPOOL_TARGET)"
        )
    reason = f" [{error.reason}]" if error.reason else ""
    hint = _hint(error, tenant)
    message = f"{error.code.name}{reason}: {error.message}" + (f"; {hint}" if hint else "")
    return BadInput(message) if error.code in _CALLER_MISTAKES else ServiceFailed(message)


class ServerClient:
    """A client for one command: opens the channel, turns every CallError into one line."""

    def __init__(self, target: str, tenant: str, token: str | None, token_file: str | None):
        from toolpool import Client

        self.target, self.tenant = target, tenant
        self.client = Client(target, resolve_token(token, token_file))

    def __enter__(self) -> Any:
        return self.client

    def __exit__(self, kind: Any, error: BaseException | None, _tb: Any) -> None:
        from toolpool import CallError

        self.client.close()
        if isinstance(error, CallError):
            raise _failure(error, self.target, self.tenant) from None


# -- serve -------------------------------------------------------------------------------------


def _announce(config: Any) -> Any:
    from worker.server import announce_json

    def announce(port: int) -> None:
        if not sys.stdout.isatty():
            return announce_json(port, config.host)
        token = "" if not config.dev_token_generated else f"; development token in {config.token_file}"
        click.echo(f"toolpool serving on {config.host}:{port}: state in {config.state_dir}{token}; Ctrl-C to stop")

    return announce


@command("serve", short_help="Run the gRPC service (embedded defaults: 127.0.0.1:50051, SQLite).")
@config_option
@click.option("--host", help="Address to listen on (default 127.0.0.1; 0.0.0.0 for every interface).")
@click.option("--port", type=click.IntRange(0, 65535), help="Port (default 50051; 0 picks a free one).")
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False),
    metavar="DIR",
    help="Where the embedded defaults keep the database, secrets key and development token "
    "(also TOOLPOOL_STATE_DIR; default $XDG_STATE_HOME/toolpool, else ~/.local/state/toolpool).",
)
@click.option("--db", "db_path", metavar="FILE", help="SQLite database path (default STATE_DIR/toolpool.db).")
@click.option(
    "--store",
    "store_url",
    metavar="URL",
    help="Store URL: sqlite:///PATH or postgresql://... (also TOOLPOOL_STORE_URL).",
)
@click.option("--max-concurrent", type=click.IntRange(min=0), help="Calls running at once.")
@click.option("--log-level", type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"]))
@pool_options
def serve(
    config_file: str | None,
    host: str | None,
    port: int | None,
    state_dir: str | None,
    db_path: str | None,
    store_url: str | None,
    max_concurrent: int | None,
    log_level: str | None,
    mode: str | None,
    insecure_no_confinement: bool | None,
) -> int:
    """Run the gRPC service toolpool.v1.ToolPool until SIGTERM or Ctrl-C, then drain.
    Settings come from --config, TOOLPOOL_* variables and these flags, later winning."""
    from sandbox.errors import ConfinementUnavailable
    from worker.config import ConfigError, load_config
    from worker.server import ListenError, serve_forever
    from worker.store import StoreStartupError

    overrides = {
        "host": host,
        "port": port,
        "state_dir": state_dir,
        "db_path": db_path,
        "store.url": store_url,
        "pool.mode": mode,
        "admission.max_concurrent": max_concurrent,
        "pool.insecure_no_confinement": insecure_no_confinement,
        "log_level": log_level,
    }
    try:
        config = load_config(config_file, overrides=overrides)
    except ConfigError as exc:
        raise BadInput(f"configuration: {exc}") from None
    try:
        return serve_forever(config, announce=_announce(config))
    except ListenError as exc:
        raise BadInput(str(exc)) from None
    except ConfinementUnavailable as exc:
        raise NoConfinement(str(exc)) from None
    except StoreStartupError as exc:
        raise StoreFailed(str(exc)) from None


# -- deploy and call ---------------------------------------------------------------------------


def _read_bundle(paths: tuple[str, ...]) -> tuple[dict[str, str], dict[str, Path]]:
    from worker.compiling import ToolFilesError, read_sources, read_tool_files

    try:
        files = read_tool_files(paths)
        return read_sources(files), files
    except ToolFilesError as exc:
        raise BadInput(str(exc)) from None


@command("deploy", short_help="Deploy tool files to the service, optionally under an alias.")
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option("--alias", help="Point this alias at the new version, e.g. live.")
@client_options
@json_option
def deploy(
    paths: tuple[str, ...],
    alias: str | None,
    tenant: str,
    target: str,
    token: str | None,
    token_file: str | None,
    as_json: bool,
) -> int:
    """Deploy PATH... (tool files, or directories of *.py) as one version. The version id
    is the content address of the files: the same files deploy to the same id. Exit 1
    when the compiler refuses them, with every refusal."""
    from toolpool import CompileFailed

    sources, files = _read_bundle(paths)
    with ServerClient(target, tenant, token, token_file) as client:
        try:
            deployment = client.deploy(tenant, sources, alias=alias)
        except CompileFailed as failed:
            return _print_refusals(failed.errors, files, as_json)
    output = {
        "version_id": deployment.version_id,
        "functions": list(deployment.functions),
        "created": deployment.created,
        "alias": alias,
    }
    if wants_json(as_json):
        print_json(output)
    else:
        new = "new version" if deployment.created else "version (already deployed)"
        aliased = f"; alias {alias} points at it" if alias else ""
        print_lines(
            [
                f"{style('deployed', 'green', bold=True)} {new} {deployment.version_id[:12]} for tenant "
                f"{tenant}: {', '.join(deployment.functions)}{aliased}"
            ]
        )
    return EXIT_OK


def _print_refusals(errors: list[tuple[str, int, str]], files: dict[str, Path], as_json: bool) -> int:
    if wants_json(as_json):
        print_json({"compile_errors": [{"file": f, "line": line, "message": m} for f, line, m in errors]})
    else:
        print_lines(problem_lines((str(files[f]) if f in files else f, line or None, m) for f, line, m in errors))
    return EXIT_TOOL_FAILED


@command("call", short_help="Call a deployed tool function and print the result, as `run` does.")
@click.argument("function", metavar="FUNCTION")
@click.option("--version", "version_id", metavar="ID", help="The version id deploy printed.")
@click.option("--alias", help="An alias, e.g. live.")
@click.option(
    "--conv",
    metavar="FILE",
    help='conv.json, as for `run`; its "secrets" are left out: the server uses the tenant\'s own '
    "(`toolpool secret set`).",
)
@click.option("--args", "args_file", metavar="FILE", help="args.json: a JSON object or array.")
@click.option("--deadline-ms", type=click.IntRange(min=0), default=None, help="The call's budget on the server.")
@click.option("--timeout", type=click.FloatRange(min=0), default=None, help="The whole call's budget in seconds.")
@click.option("--bundle", multiple=True, metavar="FILE", help="Tool files to re-send if a replica lacks the version.")
@client_options
@json_option
def call(
    function: str,
    version_id: str | None,
    alias: str | None,
    conv: str | None,
    args_file: str | None,
    deadline_ms: int | None,
    timeout: float | None,
    bundle: tuple[str, ...],
    tenant: str,
    target: str,
    token: str | None,
    token_file: str | None,
    as_json: bool,
) -> int:
    """Call FUNCTION of a deployed version (--version ID or --alias NAME) and print the
    result: a summary on a terminal, JSON on a pipe or with --json. Exit 0 when the status
    is ok, 1 for any other status."""
    if (version_id is None) == (alias is None):
        raise BadInput("give exactly one of --version ID and --alias NAME")
    conversation = load_conversation(conv)
    if conversation.pop("secrets", None) is not None:
        click.echo(
            f'toolpool call: note: the "secrets" of {conv} are for `toolpool run`; on the server the tool '
            f"gets tenant {tenant}'s secrets (`toolpool secret list --tenant {tenant}`)",
            err=True,
        )
    call_args = load_json_file(args_file, "--args", {})
    files = _read_bundle(bundle)[0] if bundle else None
    with ServerClient(target, tenant, token, token_file) as client:
        result = client.execute(
            tenant,
            function,
            version_id=version_id,
            alias=alias,
            args=call_args,
            conversation=conversation,
            deadline_ms=deadline_ms,
            timeout=timeout,
            bundle=files,
        )
    print_result(result.to_dict(), f"{tenant} {alias or (version_id or '')[:12]} {function}", as_json)
    return EXIT_OK if result.ok else EXIT_TOOL_FAILED


# -- versions and aliases ----------------------------------------------------------------------


def _versions(target: str, tenant: str, token: str | None, token_file: str | None) -> list[Any]:
    with ServerClient(target, tenant, token, token_file) as client:
        versions: list[Any] = client.list_versions(tenant)
        return versions


def _nothing_deployed(tenant: str) -> list[str]:
    return [f"tenant {tenant} has nothing deployed yet: `toolpool deploy --tenant {tenant} --alias live tool.py`"]


@command("versions", short_help="List a tenant's versions: id, created, functions, aliases.")
@client_options
@json_option
def versions(tenant: str, target: str, token: str | None, token_file: str | None, as_json: bool) -> int:
    """List the versions TENANT has deployed, newest first: id, when it was first
    deployed, its functions and the aliases that point at it."""
    found = _versions(target, tenant, token, token_file)
    if wants_json(as_json):
        print_json(
            {
                "tenant": tenant,
                "versions": [
                    {
                        "version_id": v.version_id,
                        "created": iso_utc(v.created_unix_ms),
                        "created_unix_ms": v.created_unix_ms,
                        "functions": list(v.functions),
                        "files": list(v.file_names),
                        "aliases": list(v.aliases),
                    }
                    for v in found
                ],
            }
        )
    elif not found:
        print_lines(_nothing_deployed(tenant))
    else:
        print_lines(
            table(
                ("VERSION", "CREATED", "FUNCTIONS", "ALIASES"),
                [
                    (
                        v.version_id[:12],
                        local_time(v.created_unix_ms),
                        ", ".join(v.functions),
                        ", ".join(v.aliases) or "-",
                    )
                    for v in found
                ],
            )
        )
    return EXIT_OK


@command("aliases", short_help="List a tenant's aliases and the version each points at.")
@client_options
@json_option
def aliases(tenant: str, target: str, token: str | None, token_file: str | None, as_json: bool) -> int:
    """List TENANT's aliases: the version each points at, when that version was first
    deployed, and its functions."""
    rows = sorted((alias, v) for v in _versions(target, tenant, token, token_file) for alias in v.aliases)
    if wants_json(as_json):
        print_json(
            {
                "tenant": tenant,
                "aliases": [
                    {
                        "alias": alias,
                        "version_id": v.version_id,
                        "created": iso_utc(v.created_unix_ms),
                        "functions": list(v.functions),
                    }
                    for alias, v in rows
                ],
            }
        )
    elif not rows:
        print_lines(_nothing_deployed(tenant))
    else:
        print_lines(
            table(
                ("ALIAS", "VERSION", "CREATED", "FUNCTIONS"),
                [
                    (alias, v.version_id[:12], local_time(v.created_unix_ms), ", ".join(v.functions))
                    for alias, v in rows
                ],
            )
        )
    return EXIT_OK


COMMANDS = (serve, deploy, call, versions, aliases)
