"""Compile tenant tool source into a guarded, marshaled code object, in the supervisor.

Runs in the trusted supervisor and never executes tool code. It trusts the ``Policy`` it
is given (built by the service) and RestrictedPython's transformer. It trusts nothing
about ``source`` or ``filename``: every input, however malformed, ends in a
``CompiledTool`` or a ``CompileFailure`` (as ``CompileErrors``) whose message names the
customer's file and line, e.g. ``tool.py line 3: 'exec' is not allowed``.

Pipeline (``compile_tool``):

1. input checks: ``str`` source that is valid Unicode (no lone surrogates), at most
   ``policy.limits.source_bytes`` of UTF-8, no NUL; a safe relative ``*.py`` filename;
2. cache lookup by content (sha256 of filename, source and ``policy.fingerprint()``);
3. ``ast.parse``, then an iterative depth check (``MAX_AST_DEPTH``, the ``Survey`` in
   ``sandbox/compile/passes.py``), so that RestrictedPython's recursive transformer and
   ``compile()`` never see a tree deep enough to blow the stack;
4. ``ToolTransformer`` (``sandbox/compile/transformer.py``): RestrictedPython's transformer, which
   rewrites attribute, item, iteration, unpacking, write and star-call operations into
   calls of the guards in ``sandbox/child/guards.py`` and refuses every AST node type it
   has no visitor for, under this project's name rules (its docstring has the table:
   ordinary Python through, the doors refused with what to do instead); then the guard
   names RestrictedPython emitted are renamed to ones no tool can spell (``passes.py``);
5. ``compile(..., dont_inherit=True, optimize=0)`` and ``marshal.dumps``.

Warnings (``SyntaxWarning``/``DeprecationWarning`` about ``is`` with a literal, invalid
escapes...) are suppressed. Python's warning filters are process-wide, so ``ast.parse``
and ``compile()`` hold one lock (the RestrictedPython pass, most of the time, does not).
A source at the default 256 KiB limit takes about 2 s of CPU; results are cached. The
compile cost is bounded by caps on source size, nesting depth (``MAX_AST_DEPTH``), syntax
nodes (``MAX_AST_NODES``) and scopes (``MAX_SCOPES``).

Errors: every failure is a ``CompileErrors``, a subclass of ``sandbox.errors.CompileFailure``
whose ``.errors`` lists each problem as a ``CompileProblem(file, line, message)``; its
message lists them one per line, and ``file``/``line`` are the first problem's.
``compile_bundle`` collects the problems of all its files into one ``CompileErrors``.
A policy that names something on the floor (``REFUSED_MODULES``/``REFUSED_BUILTINS``)
is the caller's mistake and raises ``sandbox.errors.InvalidInput`` instead.
"""

from __future__ import annotations

import ast
import contextlib
import marshal
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sandbox import policy_tables
from sandbox.bundles import (
    MAX_BUNDLE_FILES,
    Bundle,
    CompiledTool,
    CompileErrors,
    CompileProblem,
    assemble,
    filename_problem,
    output_too_large,
    sorted_problems,
    source_problem,
    tool_address,
)
from sandbox.bundles import fail as _fail
from sandbox.compile.passes import AugmentedAssignmentExpander, Survey, rename_guard_names, tool_written_guard_names
from sandbox.compile.transformer import ToolTransformer, line_of
from sandbox.errors import CompileFailure, InvalidInput
from sandbox.policy import DEFAULT_POLICY, Policy

MAX_AST_DEPTH = 100
MAX_AST_NODES = 40_000  # about 0.4 s of compile() on this machine type, the worst case
MAX_SCOPES = 1_500  # nested scopes compile in more than linear time
"""Deepest AST a tool may have. Real tools stay under 30; RestrictedPython's transformer
recurses about four Python frames per level, and the default recursion limit is 1000."""

MAX_PROBLEMS_PER_FILE = 100
"""Problems reported for one file; the message says how many more there were."""

CACHE_MAX_ENTRIES = 512
CACHE_MAX_BYTES = 64 * 1024 * 1024
"""Bounds of the compile cache, counted as source plus code bytes."""


@dataclass(frozen=True)
class CompileCacheInfo:
    hits: int
    misses: int
    entries: int
    max_entries: int
    bytes: int
    max_bytes: int


# ---------------------------------------------------------------------------------------
# The compile cache
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    tool: CompiledTool
    function_lines: tuple[int, ...]  # beside ``tool.functions``, for bundle error messages

    @property
    def size(self) -> int:
        return len(self.tool.source) + len(self.tool.code)


class _LruCache:
    """Compiled results by content, bounded by entry count and bytes. Thread-safe."""

    def __init__(self, max_entries: int, max_bytes: int):
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._bytes = 0
        self._hits = 0
        self._misses = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> _Entry | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                self._misses += 1
                return None
            self._entries.move_to_end(key)
            self._hits += 1
            return entry

    def put(self, key: str, entry: _Entry) -> None:
        if entry.size > self._max_bytes:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old.size
            self._entries[key] = entry
            self._bytes += entry.size
            while len(self._entries) > self._max_entries or self._bytes > self._max_bytes:
                _, evicted = self._entries.popitem(last=False)
                self._bytes -= evicted.size

    def info(self) -> CompileCacheInfo:
        with self._lock:
            return CompileCacheInfo(
                hits=self._hits,
                misses=self._misses,
                entries=len(self._entries),
                max_entries=self._max_entries,
                bytes=self._bytes,
                max_bytes=self._max_bytes,
            )

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0
            self._hits = 0
            self._misses = 0


_CACHE = _LruCache(CACHE_MAX_ENTRIES, CACHE_MAX_BYTES)
_WARNINGS_LOCK = threading.Lock()  # warning filters are process-wide


def compile_cache_info() -> CompileCacheInfo:
    """Hits, misses and size of the compile cache, for metrics."""
    return _CACHE.info()


def compile_cache_clear() -> None:
    """Empty the compile cache and reset its counters (tests, or after a policy roll-out)."""
    _CACHE.clear()


def _check_policy(policy: Policy) -> None:
    """The floor: a policy may never allow these, whoever built it."""
    if not isinstance(policy, Policy):
        raise InvalidInput("policy", f"expected a sandbox.policy.Policy, got {type(policy).__name__}")
    for name in policy.modules:
        top = name.split(".")[0]
        reason = policy_tables.REFUSED_MODULES.get(name) or policy_tables.REFUSED_MODULES.get(top)
        if reason:
            raise InvalidInput(f"policy.modules[{name!r}]", f"can never be allowed: {reason}")
    for name in policy.builtins:
        reason = policy_tables.REFUSED_BUILTINS.get(name)
        if reason:
            raise InvalidInput(f"policy.builtins[{name!r}]", f"can never be allowed: {reason}")


# ---------------------------------------------------------------------------------------
# AST checks
# ---------------------------------------------------------------------------------------


def _complexity_problem(survey: Survey) -> str | None:
    """Why compiling this tree could take seconds, or None.

    CPython compiles about 10 us per node, and many nested scopes (lambdas in one
    function) cost more than linearly. A tool file of 1,000 dense lines stays well under
    both caps.
    """
    if survey.nodes > MAX_AST_NODES:
        return f"code is too complex: {survey.nodes} syntax nodes (at most {MAX_AST_NODES}); split it into files"
    if survey.scopes > MAX_SCOPES:
        return (
            f"code is too complex: {survey.scopes} functions, lambdas, classes and comprehensions "
            f"(at most {MAX_SCOPES}); split it into files"
        )
    return None


# ---------------------------------------------------------------------------------------
# Compiling
# ---------------------------------------------------------------------------------------


def _problems(filename: str, raw: Iterable[tuple[int, int, str]]) -> tuple[list[CompileProblem], int]:
    """Sorted, de-duplicated problems for one file, capped; and how many were left out."""
    seen: set[tuple[int, str]] = set()
    ordered = []
    for line, _column, message in sorted(raw, key=lambda item: (item[0], item[1])):
        if (line, message) in seen:
            continue
        seen.add((line, message))
        ordered.append(CompileProblem(filename, line or None, message))
    return ordered[:MAX_PROBLEMS_PER_FILE], max(0, len(ordered) - MAX_PROBLEMS_PER_FILE)


def _syntax_problem(filename: str, exc: SyntaxError) -> CompileErrors:
    line = exc.lineno if isinstance(exc.lineno, int) and exc.lineno > 0 else None
    message = exc.msg if isinstance(exc.msg, str) and exc.msg else "invalid syntax"
    return _fail(filename, line, f"{type(exc).__name__}: {message}")


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """No warnings out of parse/compile, even where the host turns warnings into errors."""
    with _WARNINGS_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _compile_checked(source: str, filename: str, policy: Policy) -> _Entry:
    """Parse, check, transform and compile one valid-looking source. Raises CompileErrors."""
    try:
        with _quiet():
            tree = ast.parse(source, filename=filename, mode="exec")
    except SyntaxError as exc:
        raise _syntax_problem(filename, exc) from None
    except RecursionError:
        raise _fail(filename, None, f"source is nested too deeply to parse (limit {MAX_AST_DEPTH} levels)") from None
    except MemoryError as exc:
        # CPython's parser raises MemoryError() when its own stack overflows (`x = ------1`,
        # `not not ... x`): nesting. Real exhaustion cannot come from parsing a source of at
        # most 256 KiB under the compile's 256 MiB (the AST costs a few hundred bytes a
        # token); a MemoryError with a message is not the parser's, and propagates.
        if exc.args:
            raise
        raise _fail(filename, None, f"source is nested too deeply to parse (limit {MAX_AST_DEPTH} levels)") from None

    survey = Survey(tree, MAX_AST_DEPTH)
    deep = survey.too_deep
    if deep is not None:
        raise _fail(filename, line_of(deep), f"code is nested too deeply (more than {MAX_AST_DEPTH} levels)")
    complexity = _complexity_problem(survey)
    if complexity is not None:
        raise _fail(filename, None, complexity)

    functions = [(n.name, n.lineno) for n in tree.body if isinstance(n, ast.FunctionDef)]
    tool_written = survey.guard_spelled
    if survey.augmented:
        tree = AugmentedAssignmentExpander().visit(tree)
        tool_written = tool_written_guard_names(tree)  # the expansion copies parts of targets
    transformer = ToolTransformer(policy, survey.bound)
    tree = transformer.visit(tree)
    if transformer.problems:
        problems, omitted = _problems(filename, transformer.problems)
        raise CompileErrors(problems, omitted=omitted)
    rename_guard_names(tree, tool_written)

    try:
        with _quiet():
            code = compile(tree, filename, "exec", dont_inherit=True, optimize=0)
    except SyntaxError as exc:
        raise _syntax_problem(filename, exc) from None

    names: list[str] = []
    lines: list[int] = []
    for name, line in functions:
        if name not in names:
            names.append(name)
            lines.append(line)
    tool = CompiledTool(
        filename=filename,
        source=source,
        code=marshal.dumps(code),
        sha256=tool_address(filename, policy.fingerprint(), source),
        functions=tuple(names),
    )
    return _Entry(tool, tuple(lines))


def _compile_entry(source: Any, filename: Any, policy: Policy) -> _Entry:
    _check_policy(policy)
    problem = filename_problem(filename)
    if problem is not None:
        raise CompileErrors([problem])
    if not isinstance(source, str):
        raise _fail(filename, None, f"source must be text (str), got {type(source).__name__}")
    source = str.__str__(source)  # an exact str: a subclass could lie about hash or equality
    problem = source_problem(source, filename, policy.limits.source_bytes)
    if problem is not None:
        raise CompileErrors([problem])

    key = tool_address(filename, policy.fingerprint(), source)
    entry = _CACHE.get(key)
    if entry is not None:
        return entry
    try:
        entry = _compile_checked(source, filename, policy)
    except (CompileFailure, MemoryError):
        raise  # out of memory: the compile worker's own limit, which its supervisor names
    except RecursionError:
        raise _fail(filename, None, "source is too complex to compile") from None
    except Exception as exc:  # noqa: BLE001 - the compiler is total: report, never crash
        raise _fail(filename, None, f"the compiler could not process this source ({type(exc).__name__})") from None
    _CACHE.put(key, entry)
    return entry


def compile_tool(source: str, filename: str = "tool.py", policy: Policy = DEFAULT_POLICY) -> CompiledTool:
    """Compile one tool file under ``policy``.

    Returns a ``CompiledTool`` (cached by content), or raises ``CompileErrors`` (a
    ``CompileFailure``) for any problem with ``source`` or ``filename``, and
    ``InvalidInput`` only if ``policy`` itself allows something on the floor. The caller
    runs ``code`` only with globals from ``sandbox.child.guards.make_globals`` built from
    the same policy.
    """
    return _compile_entry(source, filename, policy).tool


def compile_files(
    files: Mapping[str, str], policy: Policy = DEFAULT_POLICY, *, on_file: Callable[[str], None] | None = None
) -> tuple[dict[str, CompiledTool], dict[str, tuple[int, ...]]]:
    """Compile every file of a bundle: each file's ``CompiledTool`` and the lines of its
    functions. Raises one ``CompileErrors`` listing every problem of every file (each with
    its file and line), or ``InvalidInput`` for a policy on the floor. ``on_file(name)`` is
    told before each file is compiled (the compile worker tells its supervisor, so a
    compile stopped at a limit names the file)."""
    _check_policy(policy)
    if not isinstance(files, Mapping):
        raise _fail(None, None, f"a bundle must map filenames to sources, got {type(files).__name__}")
    if not files:
        raise _fail(None, None, "a bundle needs at least one file")
    if len(files) > MAX_BUNDLE_FILES:
        raise _fail(None, None, f"a bundle has at most {MAX_BUNDLE_FILES} files, got {len(files)}")

    problems: list[CompileProblem] = []
    omitted = 0
    entries: dict[str, _Entry] = {}
    output, cap = 0, policy.limits.compile_output_bytes
    for filename, source in files.items():
        if on_file is not None and type(filename) is str:
            on_file(filename)
        try:
            entry = entries[filename] = _compile_entry(source, filename, policy)
        except CompileErrors as exc:
            problems.extend(exc.errors)
            omitted += exc.omitted
            continue
        output += len(entry.tool.code)
        if output > cap:  # the rest is not compiled: the bundle is refused whatever it holds
            problems.append(CompileProblem(filename, None, output_too_large(cap, output)))
            break
    if problems:
        raise CompileErrors(sorted_problems(problems), omitted=omitted)
    return (
        {name: entry.tool for name, entry in entries.items()},
        {name: entry.function_lines for name, entry in entries.items()},
    )


def compile_bundle(files: Mapping[str, str], policy: Policy = DEFAULT_POLICY) -> Bundle:
    """Compile every file of a bundle in this process, reporting every problem at once.

    ``files`` maps a relative path (``tools/booking.py``) to its source. Top-level function
    names must be unique across the bundle. Raises one ``CompileErrors`` listing all
    problems (each with its file and line), or ``InvalidInput`` for a policy on the floor.
    The service and the CLI compile in a confined worker instead
    (``sandbox/supervisor/confined_compile.py``); this is what that worker runs.
    """
    tools, lines = compile_files(files, policy)
    problems: list[CompileProblem] = []
    bundle = assemble(tools, lines, policy.fingerprint(), problems)
    if bundle is None:
        raise CompileErrors(sorted_problems(problems))
    return bundle
