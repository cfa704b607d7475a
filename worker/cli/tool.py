"""The tool author's commands: ``init``, ``run``, ``check``, and ``completion`` for the shell.

``run`` compiles with the service's own compile (``worker/compiling.py``, which runs no
tool code) and runs the call in a confined child of a private pool, never in this
process; the pool's template and children end with the command, and nothing is written
to the working directory. ``check`` compiles and runs nothing. ``init`` writes a starter
from ``worker/starter/`` into a new or empty directory.

Trusts nothing it reads from the user's files (``worker/cli/inputs.py`` checks them);
the tool's code is compiled here and only ever run in a confined child.
"""

from __future__ import annotations

import ast
import json
import logging
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from worker.cli.common import command, egress_options, json_option, pool_options
from worker.cli.errors import EXIT_OK, EXIT_TOOL_FAILED, BadInput, NoConfinement
from worker.cli.inputs import egress_from_flags, load_conversation, load_json_file, secrets_from
from worker.cli.output import print_json, print_lines, print_result, problem_lines, style, wants_json
from worker.pools import start_pool

STARTER = Path(__file__).resolve().parents[1] / "starter"  # worker/starter/
STARTER_FILES = ("tool.py", "conv.json", "args.json", "test_tool.py")
WATCH_INTERVAL_S = 0.3


# -- init ----------------------------------------------------------------------------------


def _editor_settings() -> dict[str, str]:
    """Editor files for the starter: VS Code (Pylance) and pyright find ``toolpool.tool``
    in the interpreter that runs this command."""
    vscode = {
        "python.defaultInterpreterPath": sys.executable,
        "python.analysis.typeCheckingMode": "basic",
        "python.testing.pytestEnabled": True,
        "python.testing.pytestArgs": ["."],
    }
    pyright: dict[str, Any] = {"include": ["."], "typeCheckingMode": "basic"}
    if sys.prefix != sys.base_prefix:  # a virtual environment: name it
        pyright.update(venvPath=str(Path(sys.prefix).parent), venv=Path(sys.prefix).name)
    return {
        ".vscode/settings.json": json.dumps(vscode, indent=2) + "\n",
        "pyrightconfig.json": json.dumps(pyright, indent=2) + "\n",
    }


@command("init", short_help="Write a starter tool, its inputs, tests and editor settings into DIR.")
@click.argument("directory", metavar="DIR")
def init(directory: str) -> int:
    """Write a starter into DIR (new or empty): tool.py (a start_function that reads state,
    sets a variant and returns an utterance), conv.json and args.json (its inputs),
    test_tool.py (pytest, on the real sandbox) and editor settings that complete `conv`."""
    target = Path(directory)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BadInput(
            f"{directory} exists and is not an empty directory; init writes only into a new or "
            "empty one, so that it never overwrites your files"
        )
    try:
        target.mkdir(parents=True, exist_ok=True)
        for name in STARTER_FILES:
            shutil.copyfile(STARTER / name, target / name)
        for name, text in _editor_settings().items():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            (target / name).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise BadInput(f"{directory}: {exc.strerror or exc}") from None
    print_lines(
        [
            f"wrote a starter tool into {directory}/: tool.py, conv.json, args.json, test_tool.py, "
            ".vscode/settings.json, pyrightconfig.json",
            "next:",
            f"  toolpool run {directory}/tool.py start_function --conv {directory}/conv.json",
            f"  toolpool run {directory}/tool.py opening_hours --conv {directory}/conv.json --args {directory}/args.json",
            f"  toolpool check {directory}/tool.py",
            f"  pytest {directory}",
        ]
    )
    return EXIT_OK


# -- run -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunInputs:
    """What one ``run`` reads from disk, re-read for every run under ``--watch``."""

    tool: str
    function: str
    conv: str | None
    args: str | None
    secrets_file: str | None
    secret_flags: tuple[str, ...]
    deadline_ms: int | None

    def watched(self) -> list[Path]:
        return [Path(p) for p in (self.tool, self.conv, self.args, self.secrets_file) if p]


def _function_names(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    """Shell completion of FUNCTION: the top-level functions of FILE (parsed, never run)."""
    try:
        tree = ast.parse(Path(ctx.params.get("tool") or "").read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return []
    return [node.name for node in tree.body if isinstance(node, ast.FunctionDef) and node.name.startswith(incomplete)]


def _compile_one(path: str, pool: Any) -> Any:
    """(bundle, None), or (None, compile_error Result) for code the compiler refuses."""
    from sandbox.errors import CompileFailure
    from sandbox.result import Result
    from worker.compiling import ToolFilesError, compile_files, read_sources

    try:
        sources = read_sources({Path(path).name: Path(path)})
    except ToolFilesError as exc:
        raise BadInput(str(exc)) from None
    try:
        return compile_files(sources, pool), None
    except CompileFailure as failure:
        return None, Result(status=failure.status, error=failure.to_error_info())


def run_once(pool: Any, inputs: RunInputs, egress: Any) -> Any:
    """One call of ``inputs`` on ``pool``; returns the sandbox's Result. Raises BadInput."""
    from sandbox.errors import InvalidInput
    from sandbox.supervisor.call import CallRequest, requested_deadline, validate_input
    from worker.compiling import missing_function

    conversation = load_conversation(inputs.conv)
    call_args = load_json_file(inputs.args, "--args", {})
    secrets = secrets_from(inputs.secrets_file, inputs.secret_flags)
    bundle, refused = _compile_one(inputs.tool, pool)
    if refused is not None:
        return refused
    missing = missing_function(bundle, inputs.function, inputs.tool)
    if missing:
        raise BadInput(missing)
    try:
        request = CallRequest(
            tenant="local",
            bundle=bundle,
            function=inputs.function,
            input=validate_input(conversation, call_args),
            secrets=secrets,
            egress=egress,
            deadline=requested_deadline(inputs.deadline_ms),
        )
        return pool.execute(request)
    except InvalidInput as exc:
        raise BadInput(f"{_input_named(exc.field, inputs)}{exc}") from None


def _input_named(field: str, inputs: RunInputs) -> str:
    """Which of the user's files or flags a malformed field came from, as a message prefix."""
    if field.startswith(("conv", "conversation")) and inputs.conv:
        return f"--conv {inputs.conv}: "
    if field.startswith("args") and inputs.args:
        return f"--args {inputs.args}: "
    if field.startswith("secrets"):
        return "--secret/--secrets-file: "
    return ""


def _show(result: Any, inputs: RunInputs, as_json: bool, *, compact: bool = False) -> int:
    print_result(result.to_dict(), f"{inputs.tool} {inputs.function}", as_json, compact=compact)
    return EXIT_OK if result.ok else EXIT_TOOL_FAILED


def _snapshot(paths: list[Path]) -> tuple[tuple[int, int] | None, ...]:
    def stamp(path: Path) -> tuple[int, int] | None:
        try:
            info = path.stat()
        except OSError:
            return None
        return info.st_mtime_ns, info.st_size

    return tuple(stamp(path) for path in paths)


def _changes(paths: list[Path]) -> Iterator[None]:
    """Yields now, then each time one of ``paths`` changes (polling: no watcher dependency)."""
    last = None
    while True:
        current = _snapshot(paths)
        if current != last:
            last = current
            yield
        time.sleep(WATCH_INTERVAL_S)


def _watch(pool: Any, inputs: RunInputs, egress: Any, as_json: bool) -> int:
    """Re-run on every save until Ctrl-C. JSON mode prints one JSON line per run."""
    names = ", ".join(str(p) for p in inputs.watched())
    code = EXIT_OK
    try:
        for _ in _changes(inputs.watched()):
            if not wants_json(as_json):
                click.echo(style(f"-- {time.strftime('%H:%M:%S')} watching {names}; Ctrl-C to stop", dim=True))
            try:
                code = _show(run_once(pool, inputs, egress), inputs, as_json, compact=True)
            except BadInput as error:
                click.echo(f"toolpool run: {error}", err=True)
                code = error.exit_code
            sys.stdout.flush()
    except KeyboardInterrupt:
        return code
    return code


@command("run", short_help="Run one tool function in a confined child here, and print the result.")
@click.argument("tool", metavar="FILE")
@click.argument("function", metavar="FUNCTION", shell_complete=_function_names)
@click.option(
    "--conv",
    metavar="FILE",
    help="conv.json: state, env, channel_type, caller_number, callee_number, "
    "sip_headers, integration_attributes, variants, variant, secrets.",
)
@click.option(
    "--args", "args_file", metavar="FILE", help="args.json: a JSON object (keyword arguments) or array (positional)."
)
@click.option(
    "--secret",
    "secret_flags",
    multiple=True,
    metavar="NAME=VALUE",
    help="A secret for conv.utils.get_secret (repeatable); wins over --secrets-file and conv.json's "
    '"secrets". Prefer --secrets-file: a flag stays in shell history.',
)
@click.option("--secrets-file", metavar="FILE", help="A JSON object of secret names to values.")
@click.option(
    "--deadline-ms",
    type=click.IntRange(min=0),
    default=None,
    help="The caller's deadline; capped at 1000 ms for start_function, 5000 ms otherwise.",
)
@egress_options
@click.option("--watch", is_flag=True, help="Run again whenever FILE or an input file is saved, until Ctrl-C.")
@click.option(
    "--verbose", "-v", is_flag=True, help="Also log the sandbox's start-up (the confinement self-test) on stderr."
)
@json_option
@pool_options
def run(
    tool: str,
    function: str,
    conv: str | None,
    args_file: str | None,
    secret_flags: tuple[str, ...],
    secrets_file: str | None,
    deadline_ms: int | None,
    allow_host: tuple[str, ...],
    allow_address: tuple[str, ...],
    watch: bool,
    verbose: bool,
    as_json: bool,
    mode: str | None,
    insecure_no_confinement: bool | None,
) -> int:
    """Run FUNCTION of the tool in FILE once, in a confined child process, and print the
    result: a summary on a terminal, the result JSON on a pipe or with --json. Exit 0 when
    the status is ok, 1 for any other status, 2 for bad input, 3 when this host cannot
    confine a child. Without --allow-host/--allow-address the tool has no outbound HTTP."""
    from sandbox.confine.config import ConfinementConfig
    from sandbox.errors import ConfinementUnavailable
    from sandbox.supervisor.pool import Pool, PoolConfig

    if verbose:
        logging.getLogger().setLevel(logging.INFO)
    inputs = RunInputs(tool, function, conv, args_file, secrets_file, secret_flags, deadline_ms)
    egress = egress_from_flags(allow_host, allow_address)
    if not Path(tool).is_file():
        raise BadInput(f"{tool}: no such file")
    config = PoolConfig(
        mode=mode or "fresh", ready_children=1, confinement=ConfinementConfig(enabled=not insecure_no_confinement)
    )
    pool = Pool(config)
    try:
        start_pool(pool)
        if watch:
            return _watch(pool, inputs, egress, as_json)
        return _show(run_once(pool, inputs, egress), inputs, as_json)
    except ConfinementUnavailable as exc:
        raise NoConfinement(
            f"{exc}; run on a host with user namespaces and seccomp (see the README's "
            "'What a production host must provide')"
        ) from None
    finally:
        pool.close()


# -- check ---------------------------------------------------------------------------------


@command("check", short_help="Compile tools without running them, as Deploy does.")
@click.argument("paths", nargs=-1, required=True, metavar="FILE...")
@json_option
def check(paths: tuple[str, ...], as_json: bool) -> int:
    """Compile FILE... (files, or directories of *.py) as one bundle with the service's own
    compile, without running anything. Prints every refusal as `FILE, line N: what is
    refused; what to do instead` and exits 1, or exits 0 for tools that would deploy."""
    from worker.compiling import (
        CompileErrors,
        ToolFilesError,
        compile_files,
        compile_pool,
        read_sources,
        read_tool_files,
    )

    try:
        files = read_tool_files(paths)
        sources = read_sources(files)
    except ToolFilesError as exc:
        raise BadInput(str(exc)) from None
    try:
        with compile_pool() as pool:
            bundle = compile_files(sources, pool)
    except CompileErrors as refused:
        problems = [(str(files[p.file]) if p.file in files else p.file, p.line, p.message) for p in refused.errors]
        if as_json:
            print_json(
                {
                    "ok": False,
                    "problems": [{"file": f, "line": n, "message": m} for f, n, m in problems],
                    "omitted": refused.omitted,
                }
            )
        else:
            more = [f"... and {refused.omitted} more problems"] if refused.omitted else []
            print_lines(problem_lines(problems) + more)
        return EXIT_TOOL_FAILED
    defined = {str(files[name]): list(tool.functions) for name, tool in bundle.files.items()}
    if as_json:
        print_json({"ok": True, "functions": defined, "problems": []})
    else:
        print_lines(
            f"{style('ok', 'green', bold=True)}  {path}: {', '.join(names) or 'no functions'}"
            for path, names in defined.items()
        )
    return EXIT_OK


# -- completion ------------------------------------------------------------------------------


@command("completion", short_help="Print the shell completion script for bash or zsh.")
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell: str) -> int:
    """Print the completion script for SHELL. Load it in the current shell with

        eval "$(toolpool completion bash)"        (or zsh)

    or add that line to ~/.bashrc or ~/.zshrc. Completes commands, options and, for
    `run`, the functions the tool file defines."""
    from click.shell_completion import get_completion_class

    # The script completes the whole program: the root of this invocation's context is the
    # top-level group (found at run time, so that this module need not import it back).
    root = click.get_current_context().find_root().command
    completer = get_completion_class(shell)
    if completer is None:  # click.Choice already refused any other shell
        raise BadInput(f"no completion for shell {shell!r}")
    click.echo(completer(root, {}, "toolpool", "_TOOLPOOL_COMPLETE").source())
    return EXIT_OK


COMMANDS = (init, run, check, completion)
