"""The root of the ``toolpool`` command line: the top-level group, which lists the commands
by section, and ``main``, which runs one command.

``main`` is the one place that turns failures into what the user sees: it runs a
command and prints every ``CliError`` (``worker/cli/errors.py``), every usage mistake
click finds and any interruption as ONE line on stderr, ``toolpool COMMAND: what
happened; what to do``, and exits with the documented code. Results and listings go to
stdout (``worker/cli/output.py``: a summary on a terminal, JSON on a pipe or with
``--json``). The commands themselves live beside this module (``worker/cli/__init__.py``
has the map) and are added to the group here; none of them imports this module.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import click

from worker.cli import demo, service, tenant, tool
from worker.cli.common import ToolpoolCommand
from worker.cli.errors import EXIT_INTERRUPTED, EXIT_OK, CliError, one_line

SECTIONS = (
    ("Writing tools", ("init", "run", "check")),
    ("Running the service", ("serve", "deploy", "call", "versions", "aliases", "secret", "egress", "demo")),
    ("Shell", ("completion",)),
)


class ToolpoolGroup(click.Group):
    """The top-level group: commands listed by section, in the order a newcomer uses them."""

    command_class = ToolpoolCommand

    def list_commands(self, ctx: click.Context) -> list[str]:
        ordered = [name for _, names in SECTIONS for name in names if name in self.commands]
        return ordered + sorted(set(self.commands) - set(ordered))

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        width = formatter.width - 6 - max(len(name) for name in self.commands)
        for title, names in SECTIONS:
            rows = [(name, self.commands[name].get_short_help_str(width)) for name in names if name in self.commands]
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


def _version() -> str:
    import toolpool

    return toolpool.__version__


@click.group(cls=ToolpoolGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(_version(), "--version", "-V", prog_name="toolpool", message="%(prog)s %(version)s")
def cli() -> None:
    """Run tenants' Python tools in confined processes: write and test a tool here, then
    deploy it to the service and call it.

    Start with `toolpool init hello`, then `toolpool run hello/tool.py start_function
    --conv hello/conv.json`. Every command has --help. Exit codes: 0 ok, 1 the tool's
    status was not ok (or its code was refused), 2 bad input, 3 this host cannot confine
    a child, 4 the service refused or could not be reached, 5 the store cannot be opened.
    """


def _register_commands() -> None:
    for command in (*tool.COMMANDS, *service.COMMANDS, *tenant.COMMANDS, demo.demo):
        cli.add_command(command)


_register_commands()


def _command_path(exc: BaseException, args: list[str]) -> str:
    """The command an error came from: set by ``ToolpoolCommand`` or by click, else the
    deepest command ``args`` name (click leaves some parse errors without a context)."""
    path: str | None = getattr(exc, "command_path", None)
    if path:
        return path
    ctx: click.Context | None = getattr(exc, "ctx", None)
    if ctx is not None and ctx.parent is not None:
        return ctx.command_path
    names: list[str] = ["toolpool"]
    group: click.Command = cli
    for arg in args:
        found = group.commands.get(arg) if isinstance(group, click.Group) else None
        if found is None:
            break
        names.append(arg)
        group = found
    return " ".join(names)


def _report(prefix: str, message: str) -> None:
    click.echo(f"{prefix}: {one_line(message)}", err=True)


def main(argv: list[str] | None = None) -> int:
    """Runs one command; returns its exit code. Never lets a traceback reach the user for
    an error the command line knows (see the module docstring)."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    args = sys.argv[1:] if argv is None else argv
    try:
        outcome: Any = cli.main(args=args, prog_name="toolpool", standalone_mode=False)
    except CliError as error:
        _report(_command_path(error, args), str(error))
        return error.exit_code
    except click.exceptions.NoArgsIsHelpError as error:  # a group without its subcommand: show its help
        click.echo(error.ctx.get_help())
        return error.exit_code
    except click.UsageError as error:
        command = _command_path(error, args)
        _report(command, f"{error.format_message()} (see `{command} --help`)")
        return error.exit_code
    except click.ClickException as error:
        _report(_command_path(error, args), error.format_message())
        return error.exit_code
    except (click.Abort, KeyboardInterrupt):
        _report("toolpool", "interrupted")
        return EXIT_INTERRUPTED
    return outcome if isinstance(outcome, int) else EXIT_OK
