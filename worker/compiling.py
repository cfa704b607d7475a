"""The one compile the command line and ``toolpool.testing`` perform: ``compile_files``,
and how they read a bundle's files from disk: ``read_tool_files``.

``toolpool run``, ``toolpool check`` and ``toolpool.testing.run_tool`` compile through
this function and nothing else, and it is the service's compile: the files go to a
confined compile worker of the caller's pool (``sandbox.supervisor.confined_compile``) under the
same limits, so a tool author sees locally the verdict Deploy will give, compile bombs
included, and nothing is parsed in this process.

Trusts the policy it is given (the service's default unless a caller names another);
trusts nothing in ``files``: every problem comes back as ``CompileErrors`` naming the
file and line.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from sandbox.bundles import Bundle, CompileErrors, CompileProblem
from sandbox.policy import DEFAULT_POLICY, Policy
from sandbox.supervisor.confined_compile import ConfinedCompiler

__all__ = [
    "Bundle",
    "CompileErrors",
    "CompileProblem",
    "ToolFilesError",
    "compile_files",
    "compile_pool",
    "missing_function",
    "read_tool_files",
]


class ToolFilesError(ValueError):
    """A bundle's files cannot be read as given; the message names the path and what to do."""


def read_tool_files(paths: Sequence[str | Path]) -> dict[str, Path]:
    """Bundle name -> path for each file, and each ``*.py`` file of each directory, as
    ``toolpool deploy`` sends them (by file name). Raises ``ToolFilesError``."""
    found: dict[str, Path] = {}
    for given in paths:
        path = Path(given)
        if path.is_dir():
            members = sorted(path.glob("*.py"))
            if not members:
                raise ToolFilesError(f"{given}: no *.py files in this directory")
        elif path.exists():
            members = [path]
        else:
            raise ToolFilesError(f"{given}: no such file or directory")
        for member in members:
            if member.name in found:
                raise ToolFilesError(
                    f"{member}: a file named {member.name} is already in the bundle "
                    f"({found[member.name]}); file names must be unique"
                )
            found[member.name] = member
    return found


def read_sources(files: Mapping[str, Path]) -> dict[str, str]:
    """Bundle name -> source text. Raises ``ToolFilesError`` naming an unreadable file."""
    sources: dict[str, str] = {}
    for name, path in files.items():
        try:
            sources[name] = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise ToolFilesError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
        except OSError as exc:
            raise ToolFilesError(f"{path}: {exc.strerror or exc}") from None
    return sources


def missing_function(bundle: Bundle, function: str, where: str) -> str | None:
    """None when ``bundle`` defines ``function``; else a message naming what it does define."""
    if function in bundle.functions:
        return None
    defined = ", ".join(sorted(bundle.functions)) or "no top-level functions"
    return f"{where} has no function {function!r}; it defines: {defined}"


def compile_files(files: Mapping[str, str], pool: Any, policy: Policy = DEFAULT_POLICY) -> Bundle:
    """Compile ``files`` (bundle name -> source) as one bundle, as ``Deploy`` does: in a
    confined compile worker of ``pool`` (a started ``sandbox.supervisor.pool.Pool``).

    Returns the ``Bundle``; raises ``CompileErrors`` listing every problem of every file
    (``.errors``: file, line, message; a limit the compile went past names its file),
    ``sandbox.errors.InvalidInput`` only for a policy that allows something on the floor
    (the caller's mistake, never the tool's), and ``PoolUnavailable`` without a pool.
    """
    return ConfinedCompiler(pool).compile(dict(files), policy)


@contextlib.contextmanager
def compile_pool() -> Iterator[Any]:
    """A started pool for compiling only (``toolpool check``): one child kept for compiles."""
    from sandbox.supervisor.pool import Pool, PoolConfig
    from worker.pools import start_pool

    pool = start_pool(Pool(PoolConfig(ready_children=1, compile_workers=1)))
    try:
        yield pool
    finally:
        pool.close()
