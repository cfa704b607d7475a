"""The command line's exit codes and error tree. Every error reaches the user as one line.

    exit 0   ok: the tool's status is ok, the tool compiled, the command did what it said
    exit 1   a tool's status other than ok (run, call), or code the compiler refused
             (check, deploy): the result or the refusals are printed, not an error
    CliError                      one line: what happened, then what to do instead
    ├── BadInput         exit 2   a file, flag, field or name the user gave (it names it)
    ├── NoConfinement    exit 3   this host cannot confine a child process
    ├── ServiceFailed    exit 4   the service could not be reached, or refused or failed
    │                             the request for a reason that is not the user's input
    └── StoreFailed      exit 5   serve, secret rotate-key: the store cannot be opened

``worker/cli/root.py`` prints ``toolpool COMMAND: MESSAGE`` for each and exits with its code;
nothing else prints errors, and no traceback reaches the user for any of them.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_TOOL_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_NO_CONFINEMENT = 3
EXIT_SERVICE = 4
EXIT_STORE = 5
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it


def one_line(text: str) -> str:
    """``text`` on one line: its lines joined with "; ", blank ones dropped."""
    return "; ".join(part.strip() for part in str(text).splitlines() if part.strip())


class CliError(Exception):
    """An error the user sees as one line and an exit code."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, message: str):
        super().__init__(one_line(message))


class BadInput(CliError):
    """Bad command-line input; the message names the file, flag, field or name."""

    exit_code = EXIT_BAD_INPUT


class NoConfinement(CliError):
    """This host cannot confine a child (a missing kernel feature, or the self-test failed)."""

    exit_code = EXIT_NO_CONFINEMENT


class ServiceFailed(CliError):
    """The service could not be reached, or refused or failed the request."""

    exit_code = EXIT_SERVICE


class StoreFailed(CliError):
    """The store cannot be opened as configured."""

    exit_code = EXIT_STORE


UsageError = BadInput  # the name worker.cli used before; kept for callers that catch it
