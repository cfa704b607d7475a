"""Building blocks the ``toolpool`` commands share: the command classes, and the options
every client command and every printing command takes, spelt and explained once.

Trusts nothing: option values are checked where they are used (``worker/cli/inputs.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from worker.cli.errors import CliError

DEFAULT_TARGET = "localhost:50051"


class ToolpoolCommand(click.Command):
    """A command whose errors remember which command they came from, for the one-line report."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CliError as error:
            error.command_path = ctx.command_path  # type: ignore[attr-defined]
            raise


class ToolpoolSubgroup(click.Group):
    """A group of subcommands (``secret``, ``egress``), listed in the order they were added."""

    command_class = ToolpoolCommand

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)


def command(name: str, **settings: Any) -> Callable[[Callable[..., Any]], click.Command]:
    return click.command(name, cls=ToolpoolCommand, **settings)


def json_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--json", "as_json", is_flag=True, help="Print JSON (the default when stdout is not a terminal)."
    )(func)


def client_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--tenant, --target, --token, --token-file: who acts, on which server."""
    options = [
        click.option("--tenant", required=True, help="The tenant to act for, e.g. acme."),
        click.option(
            "--target",
            default=DEFAULT_TARGET,
            envvar="TOOLPOOL_TARGET",
            show_envvar=True,
            show_default=True,
            metavar="ADDR",
            help="The server: HOST:PORT, or dns:///NAME:PORT to spread calls over every replica a name "
            "resolves to (a Kubernetes headless Service).",
        ),
        click.option(
            "--token",
            default=None,
            metavar="TOKEN",
            help="Bearer token. Prefer TOOLPOOL_TOKEN or --token-file: a flag stays in shell history. "
            "Default: TOOLPOOL_TOKEN, else the development token of a local `toolpool serve` "
            "(in $TOOLPOOL_STATE_DIR or ~/.local/state/toolpool).",
        ),
        click.option("--token-file", default=None, metavar="FILE", help="A file holding the bearer token."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def pool_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option(
        "--insecure-no-confinement",
        is_flag=True,
        default=None,
        help="DEVELOPMENT ONLY: run children without namespaces, seccomp or uid drop.",
    )(func)
    return click.option(
        "--mode",
        type=click.Choice(["fresh", "reuse"]),
        default=None,
        help="fresh: a new process per call (default); reuse: a warm process per tenant and version.",
    )(func)


def egress_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option(
        "--allow-address",
        "allow_address",
        multiple=True,
        metavar="ADDR[/PREFIX][:PORT]",
        help="Name a loopback, private or link-local address or network explicitly (repeatable): "
        "127.0.0.1:8080, [::1]:8080, 10.1.0.0/16.",
    )(func)
    return click.option(
        "--allow-host",
        "allow_host",
        multiple=True,
        metavar="[SCHEME://]HOST[:PORT]",
        help="Let the tools' requests reach HOST, a DNS name (repeatable): api.example.com or "
        "*.example.com; https on its default port unless a scheme or port is given. "
        "An address needs --allow-address.",
    )(func)


config_option = click.option(
    "--config",
    "config_file",
    metavar="FILE",
    envvar="TOOLPOOL_CONFIG",
    show_envvar=True,
    help="TOML configuration file.",
)
"""``--config FILE`` (TOOLPOOL_CONFIG): the commands that read the service's configuration."""
