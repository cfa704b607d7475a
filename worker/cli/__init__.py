"""The ``toolpool`` command line: one program for a tool's author and for an operator.

    toolpool init DIR                      a starter tool, its inputs, tests and editor settings
    toolpool run FILE FUNCTION             one call in a confined child, here       (tool.py)
    toolpool check FILE...                 compile without running, as Deploy does
    toolpool serve | deploy | call | versions | aliases | secret | egress   (service.py)
    toolpool demo                          the service and a scripted orchestrator  (demo.py)
    toolpool completion bash|zsh           shell completion

Built on click (commands, help, environment-variable options, completion). The modules:

    root.py      the top-level group and ``main``, the one place errors become one line
    common.py    the command classes and the options several commands share
    errors.py    the exit codes and the error tree
    inputs.py    what the user gives (files, flags, secrets, tokens), read and checked
    output.py    how results print: a summary on a terminal, JSON on a pipe
    tool.py, service.py, demo.py   the commands

Imports go one way: ``root`` imports the commands, the commands import ``common``,
``errors``, ``inputs`` and ``output``, and nothing imports ``root`` but ``main`` below
(the ``toolpool`` console script, ``worker.cli:main``) and ``__main__.py``
(``python -m worker.cli``). This module imports nothing at load, so that importing one
of its submodules does not load every command.

It runs no tool code itself: ``run`` compiles here (compiling runs no tool code) and
runs the call in a confined child of a private pool.
"""

from __future__ import annotations


def main(argv: list[str] | None = None) -> int:
    """Runs one ``toolpool`` command (``argv``, else ``sys.argv[1:]``); returns its exit code.
    See ``worker.cli.root.main``."""
    from worker.cli.root import main as run

    return run(argv)
