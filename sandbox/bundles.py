"""Compiled bundles as values: what a compile produces, how it is addressed, what input it takes.

Imported on both sides of the compile: by the compile worker (``sandbox/compile/compiler.py``,
which parses and transforms tool source inside a confined child) and by the supervisor
(``sandbox/supervisor/confined_compile.py``, which never parses tenant source). Nothing here parses
Python: the input checks are on bytes and names, and the content addresses are hashes.

* ``CompileProblem``/``CompileErrors``: every reason a bundle did not compile, each naming
  its file and line;
* ``CompiledTool``/``Bundle``: the result. A tool's ``code`` is the marshaled module code
  object the compile worker produced: the supervisor stores it and hands it to children
  as it is, and never unmarshals it;
* ``tool_address``/``bundle_address``: content addresses of a file and of a bundle under
  a policy, computed from the sources alone, so both sides agree without trusting each
  other;
* ``filename_problem``/``source_problem``: the checks every file passes before anything
  compiles it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from sandbox.errors import CompileFailure

MAX_BUNDLE_FILES = 256
"""Files in one bundle."""

HEADER_BYTES = 4
"""A compile worker's answer starts with its JSON header's length in this many bytes
(big-endian); see sandbox/compile/worker.py."""

FILENAME = re.compile(r"(?:[A-Za-z0-9_][A-Za-z0-9_-]{0,63}/){0,7}[A-Za-z0-9_][A-Za-z0-9_-]{0,63}\.py")
"""A relative path of at most 8 parts: letters, digits, '_' and '-', ending in .py."""


@dataclass(frozen=True)
class CompileProblem:
    """One reason a file did not compile. ``line`` is 1-based, or None when it has none."""

    file: str | None
    line: int | None
    message: str

    def __str__(self) -> str:
        if self.file is None:
            return self.message
        if self.line is None:
            return f"{self.file}: {self.message}"
        return f"{self.file} line {self.line}: {self.message}"


class CompileErrors(CompileFailure):
    """A ``CompileFailure`` carrying every problem found (``.errors``), in file and line order."""

    def __init__(self, problems: Sequence[CompileProblem], omitted: int = 0):
        problems = tuple(problems)
        if not problems:
            raise ValueError("CompileErrors needs at least one problem")
        lines = [str(problem) for problem in problems]
        if omitted:
            lines.append(f"... and {omitted} more problems")
        super().__init__("\n".join(lines), file=problems[0].file, line=problems[0].line)
        self.errors: tuple[CompileProblem, ...] = problems
        self.omitted = omitted  # problems found but left out of ``errors``

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.errors, self.omitted))


def fail(filename: str | None, line: int | None, message: str) -> CompileErrors:
    return CompileErrors([CompileProblem(filename, line, message)])


@dataclass(frozen=True)
class CompiledTool:
    """One compiled file. ``code`` is ``marshal.dumps`` of the module code object, to be run
    with ``sandbox.child.guards.make_globals``; ``sha256`` is the content address of
    (filename, source, policy fingerprint), also the compile cache key; ``functions``
    are the file's top-level ``def`` names in order."""

    filename: str
    source: str
    code: bytes
    sha256: str
    functions: tuple[str, ...]


@dataclass(frozen=True)
class Bundle:
    """Several compiled files deployed together. ``functions`` maps each top-level function
    name to its file (names are unique across the bundle); ``version_id`` is the content
    address of the sorted (filename, source) pairs and the policy fingerprint."""

    files: Mapping[str, CompiledTool]
    functions: Mapping[str, str]
    version_id: str

    def __hash__(self) -> int:
        return hash(self.version_id)

    @property
    def size(self) -> int:
        """The bytes it holds, as caches count them: every file's source and code."""
        return sum(len(tool.source) + len(tool.code) for tool in self.files.values())


# ---------------------------------------------------------------------------------------
# Content addresses
# ---------------------------------------------------------------------------------------


def digest(*parts: str) -> str:
    """sha256 over length-prefixed parts, so no two part lists collide."""
    hasher = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8")
        hasher.update(len(data).to_bytes(8, "big"))
        hasher.update(data)
    return hasher.hexdigest()


def tool_address(filename: str, fingerprint: str, source: str) -> str:
    return digest("toolpool-compiled-tool-v1", filename, fingerprint, source)


def bundle_address(fingerprint: str, files: Mapping[str, str]) -> str:
    names = sorted(files)
    return digest("toolpool-bundle-v1", fingerprint, *(part for name in names for part in (name, files[name])))


def assemble(
    tools: Mapping[str, CompiledTool],
    lines: Mapping[str, Sequence[int]],
    fingerprint: str,
    problems: list[CompileProblem],
) -> Bundle | None:
    """The ``Bundle`` of compiled files, or None after adding to ``problems`` a problem for
    every top-level function name defined in more than one file (names are unique across
    a bundle: a call names the function, not the file). ``lines`` gives each file's
    function lines, beside ``tools[f].functions``; ``problems`` may hold the other files'
    problems already, in which case no bundle is made either."""
    owners: dict[str, tuple[str, int]] = {}
    for filename in sorted(tools):
        for name, line in zip(tools[filename].functions, lines[filename], strict=False):
            if name in owners:
                first_file, first_line = owners[name]
                problems.append(
                    CompileProblem(
                        filename,
                        line,
                        f"function {name!r} is also defined in {first_file} line {first_line}; "
                        "function names must be unique across the bundle",
                    )
                )
            else:
                owners[name] = (filename, line)
    if problems:
        return None
    names = sorted(tools)
    return Bundle(
        files=MappingProxyType({name: tools[name] for name in names}),
        functions=MappingProxyType({name: owner for name, (owner, _) in sorted(owners.items())}),
        version_id=bundle_address(fingerprint, {name: tools[name].source for name in names}),
    )


# ---------------------------------------------------------------------------------------
# Input checks: names and bytes, nothing parsed
# ---------------------------------------------------------------------------------------


def shown(value: str, limit: int = 60) -> str:
    return repr(value if len(value) <= limit else value[:limit] + "...")


def line_at(source: str, index: int) -> int:
    """1-based line of ``source[index]``, counting newlines as the tokenizer does."""
    prefix = source[:index]
    return prefix.count("\n") + prefix.count("\r") - prefix.count("\r\n") + 1


def filename_problem(filename: Any) -> CompileProblem | None:
    if type(filename) is not str:
        return CompileProblem(None, None, f"a filename must be a str, got {type(filename).__name__}")
    if not FILENAME.fullmatch(filename):
        return CompileProblem(
            None,
            None,
            f"invalid filename {shown(filename)}: use a relative path like 'tools/booking.py' "
            "(letters, digits, '_' and '-' in each part, at most 8 parts, ending in .py)",
        )
    return None


def source_problem(source: str, filename: str, limit: int) -> CompileProblem | None:
    try:
        size = len(source.encode("utf-8"))
    except UnicodeEncodeError as exc:
        return CompileProblem(filename, line_at(source, exc.start), "source is not valid Unicode text (lone surrogate)")
    if size > limit:
        return CompileProblem(filename, None, f"source is {size} bytes; the limit is {limit} bytes")
    nul = source.find("\x00")
    if nul >= 0:
        return CompileProblem(filename, line_at(source, nul), "source contains a null byte")
    return None


def checked_files(files: Any, source_limit: int) -> dict[str, str]:
    """The bundle's files as exact str -> str, or ``CompileErrors`` listing every file's
    problem with its name, size or text (none of which needs parsing)."""
    if not isinstance(files, Mapping):
        raise fail(None, None, f"a bundle must map filenames to sources, got {type(files).__name__}")
    if not files:
        raise fail(None, None, "a bundle needs at least one file")
    if len(files) > MAX_BUNDLE_FILES:
        raise fail(None, None, f"a bundle has at most {MAX_BUNDLE_FILES} files, got {len(files)}")
    problems: list[CompileProblem] = []
    checked: dict[str, str] = {}
    for filename, source in files.items():
        problem = filename_problem(filename)
        if problem is None and not isinstance(source, str):
            problem = CompileProblem(filename, None, f"source must be text (str), got {type(source).__name__}")
        if problem is None:
            source = str.__str__(source)  # an exact str: a subclass could lie about hash or equality
            problem = source_problem(source, filename, source_limit)
        if problem is not None:
            problems.append(problem)
        else:
            checked[str.__str__(filename)] = source
    if problems:
        raise CompileErrors(sorted_problems(problems))
    return checked


def size_text(n: int) -> str:
    """``256 MiB`` for whole mebibytes, else ``1234 bytes``."""
    return f"{n // (1024 * 1024)} MiB" if n % (1024 * 1024) == 0 else f"{n} bytes"


def output_too_large(cap: int, size: int | None = None) -> str:
    """The problem of a compiled bundle over ``compile_output_bytes``."""
    reached = f" ({size} bytes of code with this file)" if size is not None else ""
    return f"the compiled bundle is larger than {size_text(cap)}{reached}; split the code or make it smaller"


def sorted_problems(problems: Iterable[CompileProblem]) -> list[CompileProblem]:
    return sorted(problems, key=lambda p: (p.file is not None, p.file or "", p.line or 0))
