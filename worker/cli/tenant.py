"""The operator's commands for what a tenant's tools may use on a server: ``secret``
(set, delete, list, rotate-key) and ``egress`` (set, get). They talk to a running server
through ``worker/cli/service.py``'s client, as ``deploy`` and ``call`` do, and exit as
they do.

``secret set`` takes the value as an argument only for scripts: left out, it is read
from stdin, or from a prompt that does not echo, so that it never sits in shell history.
``secret rotate-key`` works on the store directly, not through a server (README, "The
store"): 0, 2 for a bad configuration, 5 when the store cannot be opened, 4 when the
database fails part way (run it again: rows already done are skipped).
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import Iterator
from typing import Any

import click
import grpc

from worker.cli.common import ToolpoolSubgroup, client_options, config_option, egress_options, json_option
from worker.cli.errors import EXIT_OK, BadInput, ServiceFailed, StoreFailed
from worker.cli.inputs import egress_from_flags
from worker.cli.output import print_json, print_lines, wants_json
from worker.cli.service import ServerClient

_CALLER_MISTAKES = {
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.UNAUTHENTICATED,
    grpc.StatusCode.PERMISSION_DENIED,
}


# -- secrets ----------------------------------------------------------------------------------------


@click.group("secret", cls=ToolpoolSubgroup, short_help="Set, delete or list a tenant's secrets; rotate the key.")
def secret() -> None:
    """A tenant's secrets, for conv.utils.get_secret: write-only, never read back."""


def _secret_value(name: str, value: str | None) -> str:
    """VALUE as given, else stdin (one trailing newline dropped), else a prompt that does not echo."""
    if value is None and sys.stdin.isatty():
        value = getpass.getpass(f"value of secret {name} (not shown): ")
    elif value is None:
        value = sys.stdin.read()
        value = value[:-1] if value.endswith("\n") else value
        value = value[:-1] if value.endswith("\r") else value
    if not value:
        raise BadInput(f"secret {name}: the value is empty; give it on stdin or at the prompt")
    return value


@secret.command("set", short_help="Set a secret; VALUE from stdin or a prompt unless given.")
@click.argument("name")
@click.argument("value", required=False)
@client_options
@json_option
def secret_set(
    name: str, value: str | None, tenant: str, target: str, token: str | None, token_file: str | None, as_json: bool
) -> int:
    """Set secret NAME of the tenant. Leave VALUE out and it is read from stdin
    (`printf %s "$KEY" | toolpool secret set ...`), or asked for without echo on a
    terminal, so that it never sits in shell history; VALUE as an argument is for scripts."""
    secret_value = _secret_value(name, value)
    with ServerClient(target, tenant, token, token_file) as client:
        created = client.set_secret(tenant, name, secret_value)
    if wants_json(as_json):
        print_json({"tenant": tenant, "name": name, "created": created})
    else:
        print_lines([f"secret {name} {'set' if created else 'replaced'} for tenant {tenant}"])
    return EXIT_OK


@secret.command("delete", short_help="Delete a secret.")
@click.argument("name")
@client_options
@json_option
def secret_delete(name: str, tenant: str, target: str, token: str | None, token_file: str | None, as_json: bool) -> int:
    """Delete secret NAME of the tenant (exit 0 also when there was none)."""
    with ServerClient(target, tenant, token, token_file) as client:
        deleted = client.delete_secret(tenant, name)
    if wants_json(as_json):
        print_json({"tenant": tenant, "name": name, "deleted": deleted})
    else:
        print_lines(
            [
                f"secret {name} deleted for tenant {tenant}"
                if deleted
                else f"tenant {tenant} has no secret {name}: nothing to delete"
            ]
        )
    return EXIT_OK


@secret.command("list", short_help="List the names of a tenant's secrets (never their values).")
@client_options
@json_option
def secret_list(tenant: str, target: str, token: str | None, token_file: str | None, as_json: bool) -> int:
    """List the names of the tenant's secrets. Values are never returned by any command."""
    with ServerClient(target, tenant, token, token_file) as client:
        names = client.list_secret_names(tenant)
    if wants_json(as_json):
        print_json({"tenant": tenant, "names": names})
    else:
        print_lines(names or [f"tenant {tenant} has no secrets: `toolpool secret set --tenant {tenant} NAME`"])
    return EXIT_OK


@secret.command("rotate-key", short_help="Re-wrap every secret under the primary master key (on the store).")
@config_option
@click.option("--store", "store_url", metavar="URL", help="Store URL (also TOOLPOOL_STORE_URL).")
def secret_rotate_key(config_file: str | None, store_url: str | None) -> int:
    """With the new master key configured first in secrets.key (the old ones after it),
    re-wrap every secret's data key under it, row by row, while replicas keep serving.
    Prints {"rotated": N, "already": M, "primary_key_id": ID}."""
    from worker.config import ConfigError, load_config
    from worker.store import StorageUnavailable, StoreStartupError, open_store

    try:
        config = load_config(config_file, overrides={"store.url": store_url})
    except ConfigError as exc:
        raise BadInput(f"configuration: {exc}") from None
    try:
        store = open_store(config)
    except StoreStartupError as exc:
        raise StoreFailed(str(exc)) from None
    try:
        rotated, already = store.rotate_key()
    except StorageUnavailable as exc:
        raise ServiceFailed(f"{exc.message}; run it again once the database answers") from None
    finally:
        store.close()
    print_json(
        {"rotated": rotated, "already": already, "primary_key_id": store.keyring.primary.key_id, "store": store.url}
    )
    return EXIT_OK


# -- egress ---------------------------------------------------------------------------------------


@click.group("egress", cls=ToolpoolSubgroup, short_help="Set or show a tenant's outbound HTTP policy.")
def egress() -> None:
    """A tenant's outbound HTTP policy: which hosts and addresses its tools' requests may reach."""


def _policy_lines(tenant: str, policy: dict[str, Any] | None) -> Iterator[str]:
    if policy is None:
        yield f"tenant {tenant}: no outbound HTTP (every request is refused)"
        return
    yield f"tenant {tenant} may reach:"
    for rule in policy.get("hosts") or []:
        ports = ",".join(map(str, rule.get("ports") or [])) or "default port"
        yield f"  host     {'/'.join(rule.get('schemes') or ['https'])}://{rule['pattern']} ({ports})"
    for rule in policy.get("addresses") or []:
        ports = ",".join(map(str, rule.get("ports") or [])) or "any port"
        yield f"  address  {rule['network']} ({ports})"
    limits = ", ".join(
        f"{k} {policy[k]}"
        for k in ("max_requests", "max_response_bytes", "max_request_bytes", "max_redirects")
        if k in policy
    )
    if limits:
        yield f"  per call {limits}"


def _print_policy(tenant: str, policy: dict[str, Any] | None, as_json: bool) -> int:
    if wants_json(as_json):
        print_json({"tenant": tenant, "policy": policy})
    else:
        print_lines(_policy_lines(tenant, policy))
    return EXIT_OK


@egress.command("set", short_help="Replace a tenant's egress policy (operator token needed).")
@egress_options
@click.option("--off", is_flag=True, help="No outbound HTTP at all for this tenant.")
@client_options
@json_option
def egress_set(
    allow_host: tuple[str, ...],
    allow_address: tuple[str, ...],
    off: bool,
    tenant: str,
    target: str,
    token: str | None,
    token_file: str | None,
    as_json: bool,
) -> int:
    """Replace the tenant's egress policy with the one the flags describe, or switch
    outbound HTTP off with --off. Needs an operator client's token."""
    if off == bool(allow_host or allow_address):
        raise BadInput("give --allow-host/--allow-address, or --off for no egress")
    policy = egress_from_flags(allow_host, allow_address)
    with ServerClient(target, tenant, token, token_file) as client:
        stored = client.set_egress_policy(tenant, policy)
    return _print_policy(tenant, stored, as_json)


@egress.command("get", short_help="Show a tenant's egress policy.")
@client_options
@json_option
def egress_get(tenant: str, target: str, token: str | None, token_file: str | None, as_json: bool) -> int:
    """Show the tenant's egress policy as the server stores it."""
    with ServerClient(target, tenant, token, token_file) as client:
        policy = client.get_egress_policy(tenant)
    return _print_policy(tenant, policy, as_json)


COMMANDS = (secret, egress)
