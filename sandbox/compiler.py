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
3. ``ast.parse``, then an iterative depth check (``MAX_AST_DEPTH``), so that
   RestrictedPython's recursive transformer and ``compile()`` never see a tree deep
   enough to blow the stack;
4. ``ToolTransformer``: RestrictedPython's ``RestrictingNodeTransformer`` (which rewrites
   attribute, item, iteration, write and print operations into calls of the guards in
   ``sandbox/inside/guards.py``, refuses names starting with ``_``, and refuses every AST
   node type it has no visitor for) plus this project's deny-by-default rules below;
5. ``compile(..., dont_inherit=True, optimize=0)`` and ``marshal.dumps``.

Warnings (``SyntaxWarning``/``DeprecationWarning`` about ``is`` with a literal, invalid
escapes...) are suppressed. Python's warning filters are process-wide, so ``ast.parse``
and ``compile()`` hold one lock (the RestrictedPython pass, most of the time, does not).
A source at the default 512 KiB limit takes about 2 s of CPU; results are cached.

Syntax refused on top of RestrictedPython, and why (the compile errors say so too):

=============================  ==========================================================
``try/except*``                CPython 3.11-3.13.1 type confusion (CVE-2025-22153); RP
                               also refuses it, checked here whatever the RP version
async/await, ``async for``     tools are synchronous; coroutine frames are a way out
``match``                      not yet reviewed (RP has no visitor either)
``nonlocal``                   refused by RP; rarely needed
``global`` of ``_`` names      RP checks no names in ``global``; a guard name could be
                               declared global (assigning it is refused anyway)
parameters named ``_...``      incl. positional-only ones (GHSA-ffg3-p8fm-mjx2: RP < 8.3
                               missed those; checked here whatever the RP version)
forbidden attribute names      ``x.format``, ``x.mro``, ``e.obj``, ``g.gi_frame``... (the
                               policy's table; refused again at run time)
Python builtins not in policy  ``open``, ``eval``, ``getattr``, ``vars``... unless the file
                               itself defines that name
imports outside the policy     ``import os``, ``from datetime import sys``, relative
                               imports, ``__future__`` features other than the policy's
``class`` statements           only when the policy lacks ``__build_class__``; class
                               keywords (``class A(B, x=1)``) always
nesting deeper than            ``MAX_AST_DEPTH`` levels
=============================  ==========================================================

Allowed although RP alone would refuse it: annotated assignment (``x: int = 1``), reviewed
here: its target, annotation and value go through the same guards as ``x = 1``.
Allowed and worth saying: classes (small helper classes and custom exceptions are
common; the child's class guard builds them, refusing metaclass tricks), decorators (plain
calls), generator functions and expressions (generator internals are refused by name at
compile time and by type at run time), lambdas, ``global``, ``with``, ``assert``, ``del``.

Errors: every failure is a ``CompileErrors``, a subclass of ``sandbox.errors.CompileFailure``
whose ``.errors`` lists each problem as a ``CompileProblem(file, line, message)``; its
message lists them one per line, and ``file``/``line`` are the first problem's.
``compile_bundle`` collects the problems of all its files into one ``CompileErrors``.
A policy that names something on the floor (``REFUSED_MODULES``/``REFUSED_BUILTINS``)
is the caller's mistake and raises ``sandbox.errors.InvalidInput`` instead.
"""

from __future__ import annotations

import ast
import copy
import builtins
import contextlib
import hashlib
import marshal
import re
import threading
import warnings
from collections import OrderedDict
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Iterable, Iterator, Mapping, Sequence

from RestrictedPython.transformer import RestrictingNodeTransformer

from sandbox import policy_tables
from sandbox.errors import CompileFailure, InvalidInput
from sandbox.policy import DEFAULT_POLICY, Policy

MAX_AST_DEPTH = 100
MAX_AST_NODES = 40_000  # about 0.4 s of compile() on this machine type, the worst case
MAX_SCOPES = 1_500  # nested scopes compile in more than linear time
"""Deepest AST a tool may have. Real tools stay under 30; RestrictedPython's transformer
recurses about four Python frames per level, and the default recursion limit is 1000."""

MAX_PROBLEMS_PER_FILE = 100
"""Problems reported for one file; the message says how many more there were."""

MAX_BUNDLE_FILES = 256
"""Files in one bundle."""

CACHE_MAX_ENTRIES = 512
CACHE_MAX_BYTES = 64 * 1024 * 1024
"""Bounds of the compile cache, counted as source plus code bytes."""

_FILENAME = re.compile(r"(?:[A-Za-z0-9_][A-Za-z0-9_-]{0,63}/){0,7}[A-Za-z0-9_][A-Za-z0-9_-]{0,63}\.py")
_PYTHON_BUILTINS = frozenset(dir(builtins))
_CLASS_BUILTIN = "__build_class__"
_FUTURE = "__future__"

# Syntax refused by node type: (what the customer wrote, why).
_REFUSED_SYNTAX: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "TryStar": ("'try/except*'", "exception groups can confuse types in CPython: CVE-2025-22153"),
        "AsyncFunctionDef": ("'async def'", "tools are synchronous"),
        "Await": ("'await'", "tools are synchronous"),
        "AsyncFor": ("'async for'", "tools are synchronous"),
        "AsyncWith": ("'async with'", "tools are synchronous"),
        "Match": ("'match'", "not yet reviewed for the sandbox"),
        "Nonlocal": ("'nonlocal'", "use a return value or a mutable container instead"),
    }
)


# ---------------------------------------------------------------------------------------
# Results and errors
# ---------------------------------------------------------------------------------------


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


@dataclass(frozen=True)
class CompiledTool:
    """One compiled file. ``code`` is ``marshal.dumps`` of the module code object, to be run
    with ``sandbox.inside.guards.make_globals``; ``sha256`` is the content address of
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


# ---------------------------------------------------------------------------------------
# Input checks
# ---------------------------------------------------------------------------------------


def _shown(value: str, limit: int = 60) -> str:
    return repr(value if len(value) <= limit else value[:limit] + "...")


def _line_of(source: str, index: int) -> int:
    """1-based line of ``source[index]``, counting newlines as the tokenizer does."""
    prefix = source[:index]
    return prefix.count("\n") + prefix.count("\r") - prefix.count("\r\n") + 1


def _filename_problem(filename: Any) -> CompileProblem | None:
    if type(filename) is not str:
        return CompileProblem(None, None, f"a filename must be a str, got {type(filename).__name__}")
    if not _FILENAME.fullmatch(filename):
        return CompileProblem(
            None,
            None,
            f"invalid filename {_shown(filename)}: use a relative path like 'tools/booking.py' "
            "(letters, digits, '_' and '-' in each part, at most 8 parts, ending in .py)",
        )
    return None


def _source_problem(source: str, filename: str, limit: int) -> CompileProblem | None:
    try:
        size = len(source.encode("utf-8"))
    except UnicodeEncodeError as exc:
        return CompileProblem(filename, _line_of(source, exc.start), "source is not valid Unicode text (lone surrogate)")
    if size > limit:
        return CompileProblem(filename, None, f"source is {size} bytes; the limit is {limit} bytes")
    nul = source.find("\x00")
    if nul >= 0:
        return CompileProblem(filename, _line_of(source, nul), "source contains a null byte")
    return None


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


def _digest(*parts: str) -> str:
    """sha256 over length-prefixed parts, so no two part lists collide."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8")
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


# ---------------------------------------------------------------------------------------
# AST checks
# ---------------------------------------------------------------------------------------


def _too_deep(tree: ast.AST) -> ast.AST | None:
    """The first node deeper than MAX_AST_DEPTH, found without recursion; None if none."""
    stack: list[tuple[ast.AST, int]] = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_AST_DEPTH:
            return node
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return None


def _too_complex(tree: ast.AST) -> str | None:
    """Why compiling this tree could take the supervisor seconds, or None.

    Compilation runs in the trusted supervisor, so its cost must be bounded: CPython
    compiles about 10 us per node, and many nested scopes (lambdas in one function)
    cost more than linearly. A tool file of 1,000 dense lines stays well under both caps.
    """
    nodes = scopes = 0
    for node in ast.walk(tree):
        nodes += 1
        if isinstance(node, _SCOPE_NODES):
            scopes += 1
    if nodes > MAX_AST_NODES:
        return f"code is too complex: {nodes} syntax nodes (at most {MAX_AST_NODES}); split it into files"
    if scopes > MAX_SCOPES:
        return (f"code is too complex: {scopes} functions, lambdas, classes and comprehensions "
                f"(at most {MAX_SCOPES}); split it into files")
    return None


_SCOPE_NODES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef,
                ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def _line(node: ast.AST, default: ast.AST | None = None) -> int | None:
    line = getattr(node, "lineno", None)
    if line is None and default is not None:
        line = getattr(default, "lineno", None)
    return line if isinstance(line, int) else None


def _bound_names(tree: ast.AST) -> frozenset[str]:
    """Every name the file binds anywhere (any scope). A builtin name the file binds itself
    (``input = conv.state.text``) is the tool's own variable, not the builtin."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.alias):
            names.add(node.asname or node.name.split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
    return frozenset(names)


_RP_UNDERSCORE_NAME = re.compile(r'^"(?P<name>.*)" is an invalid variable name because it starts with "_"$')
_RP_UNDERSCORE_ATTR = re.compile(r'^"(?P<name>.*)" is an invalid attribute name because it starts with "_"\.$')
_RP_RESERVED = re.compile(r'^"(?P<name>.*)" is a reserved name\.$')
_RP_MESSAGES: Mapping[str, str] = MappingProxyType(
    {
        # the same words as ToolTransformer.visit_Name, so the two reports merge into one
        "Exec calls are not allowed.": f"'exec' is not allowed ({policy_tables.REFUSED_BUILTINS['exec']})",
        "Eval calls are not allowed.": f"'eval' is not allowed ({policy_tables.REFUSED_BUILTINS['eval']})",
        "Augmented assignment of attributes is not allowed.": (
            "augmented assignment to an attribute is not allowed; write x.a = x.a + 1 instead of x.a += 1"
        ),
        "Augmented assignment of object items and slices is not allowed.": (
            "augmented assignment to an item is not allowed; write x[k] = x[k] + 1 instead of x[k] += 1"
        ),
    }
)


def _underscore_name(name: str) -> str:
    return f"name {name!r} is not allowed: names starting with '_' are reserved"


def _customer_message(info: str) -> str:
    """RestrictedPython's message, reworded where a customer would be puzzled."""
    if info in _RP_MESSAGES:
        return _RP_MESSAGES[info]
    match = _RP_UNDERSCORE_NAME.match(info)
    if match:
        return _underscore_name(match["name"])
    match = _RP_UNDERSCORE_ATTR.match(info)
    if match:
        return f"attribute {match['name']!r} is not allowed: names starting with '_' are reserved"
    match = _RP_RESERVED.match(info)
    if match:
        return f"{match['name']!r} is a reserved name"
    return info.rstrip(".")


def _pure(node: ast.AST) -> bool:
    """An expression that reads without side effects of its own: a name, a constant, or an
    attribute or item of those. Evaluating it twice is the same as evaluating it once."""
    if isinstance(node, (ast.Name, ast.Constant)):
        return True
    if isinstance(node, ast.Attribute):
        return _pure(node.value)
    if isinstance(node, ast.Subscript):
        return _pure(node.value) and _pure(node.slice)
    return False


class _AugmentedAssignmentExpander(ast.NodeTransformer):
    """Rewrite ``a.b += v`` and ``a[k] += v`` to ``a.b = a.b + v`` and ``a[k] = a[k] + v``.

    RestrictedPython refuses augmented assignment to attributes and items, yet
    ``conv.state.attempts += 1`` is what customers write. When the target is ``_pure`` the
    rewrite means the same thing, and both halves then go through the ordinary guards
    (``_getattr_``/``_getitem_`` to read, ``_write_`` to write). Other targets are left
    alone, and RestrictedPython refuses them with a message that shows the rewrite.
    """

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        target = node.target
        if not isinstance(target, (ast.Attribute, ast.Subscript)) or not _pure(target):
            return node
        load = copy.deepcopy(target)
        for sub in ast.walk(load):
            if hasattr(sub, "ctx"):
                sub.ctx = ast.Load()
        for sub in ast.walk(target):
            if sub is not target and hasattr(sub, "ctx"):
                sub.ctx = ast.Load()
        value = ast.copy_location(ast.BinOp(left=load, op=node.op, right=node.value), node)
        return ast.copy_location(ast.Assign(targets=[target], value=value), node)


class ToolTransformer(RestrictingNodeTransformer):
    """RestrictedPython's transformer with this project's deny-by-default rules on top.

    Problems are collected as (line, column, message); the caller turns them into
    ``CompileProblem``s. Any problem means no code is produced, so a visitor that refuses
    a node may leave it untransformed.
    """

    def __init__(self, policy: Policy, bound_names: frozenset[str]):
        super().__init__()
        self.problems: list[tuple[int, int, str]] = []
        self._policy = policy
        self._bound = bound_names
        self._builtins = frozenset(policy.builtins)
        self._forbidden = policy.forbidden_attributes
        self._classes_allowed = _CLASS_BUILTIN in policy.builtins
        self._modules = policy.modules

    # -- recording -----------------------------------------------------------------------

    def refuse(self, node: ast.AST, message: str) -> None:
        self.problems.append((_line(node) or 0, getattr(node, "col_offset", 0) or 0, message))

    def error(self, node: ast.AST, info: str) -> None:  # RestrictedPython's one funnel
        self.refuse(node, _customer_message(info))

    def warn(self, node: ast.AST, info: str) -> None:
        # RP's warnings ("Prints, but never reads 'printed'") are noise for customers.
        pass

    def not_allowed(self, node: ast.AST) -> None:
        # RP calls this for refused nodes and, through generic_visit, for every node type
        # it has no visitor for: deny by default.
        name = type(node).__name__
        label, reason = _REFUSED_SYNTAX.get(name, (f"{name!r} syntax", "not reviewed for the sandbox"))
        self.refuse(node, f"{label} is not allowed ({reason})")

    # -- our rules -----------------------------------------------------------------------

    def visit_TryStar(self, node: ast.AST) -> Any:
        self.not_allowed(node)
        return node

    def visit_comprehension(self, node: ast.comprehension) -> Any:
        if node.is_async:
            self.refuse(node.target, "'async for' is not allowed (tools are synchronous)")
        return super().visit_comprehension(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> Any:
        # Reviewed: target, annotation and value are visited like an Assign's (Name
        # targets name-checked, Attribute/Subscript targets through _write_), and an
        # AnnAssign target cannot be a tuple, so no unpacking guard is needed.
        return self.node_contents_visit(node)

    def _check_arguments(self, node: ast.FunctionDef | ast.Lambda) -> None:
        # Own check of every parameter kind, positional-only included, so the
        # GHSA-ffg3-p8fm-mjx2 fix does not depend on the installed RestrictedPython.
        args = node.args
        every = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
        for arg in every:
            if arg is not None and arg.arg.startswith("_") and arg.arg != "_":
                self.refuse(node, _underscore_name(arg.arg))

    def visit_FunctionDef(self, node: ast.FunctionDef) -> Any:
        self._check_arguments(node)
        return super().visit_FunctionDef(node)

    def visit_Lambda(self, node: ast.Lambda) -> Any:
        self._check_arguments(node)
        return super().visit_Lambda(node)

    def visit_Global(self, node: ast.Global) -> Any:
        for name in node.names:
            if name.startswith("_") and name != "_":
                self.refuse(node, _underscore_name(name))
        return super().visit_Global(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> Any:
        if not self._classes_allowed:
            self.refuse(node, "'class' definitions are not allowed by this policy")
        if any(keyword.arg != "metaclass" for keyword in node.keywords):
            self.refuse(node, "class keyword arguments are not allowed")
        new_node = super().visit_ClassDef(node)
        # RP builds the new ClassDef from a parsed template (`class X(metaclass=
        # __metaclass__)`, at line 1) and moves the body, bases and decorators over: give
        # the template's own nodes the class's location, so errors raised while the
        # class is built point at its line.
        ast.copy_location(new_node, node)
        for keyword in new_node.keywords:
            ast.copy_location(keyword, node)
            ast.copy_location(keyword.value, node)
        return new_node

    def visit_Attribute(self, node: ast.Attribute) -> Any:
        attr = node.attr
        if attr in self._forbidden and not attr.startswith("_"):
            reason = self._forbidden[attr]
            self.refuse(node, f"attribute {attr!r} is not allowed ({reason})")
            return self.node_contents_visit(node)
        return super().visit_Attribute(node)

    def visit_Name(self, node: ast.Name) -> Any:
        name = node.id
        if (
            isinstance(node.ctx, ast.Load)
            and name in _PYTHON_BUILTINS
            and name not in self._builtins
            and name not in self._bound
            and not name.startswith("_")
        ):
            reason = policy_tables.REFUSED_BUILTINS.get(name, "not one of the builtins tools may use")
            self.refuse(node, f"{name!r} is not allowed ({reason})")
            return node
        return super().visit_Name(node)

    def _module_known(self, name: str) -> bool:
        return name in self._modules or any(m.startswith(name + ".") for m in self._modules)

    def _refuse_module(self, node: ast.AST, name: str) -> None:
        top = name.split(".")[0]
        reason = policy_tables.REFUSED_MODULES.get(name) or policy_tables.REFUSED_MODULES.get(top)
        if not reason:
            allowed = ", ".join(sorted(m for m in self._modules if m != _FUTURE))
            reason = f"tools may import: {allowed}"
        self.refuse(node, f"import of {name!r} is not allowed ({reason})")

    def visit_Import(self, node: ast.Import) -> Any:
        for alias in node.names:
            if alias.name == _FUTURE or not self._module_known(alias.name):
                self._refuse_module(node, alias.name)
        return super().visit_Import(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> Any:
        module = node.module or ""
        if node.level:
            self.refuse(node, "relative imports are not allowed (tools import only the platform's modules)")
        elif not self._module_known(module):
            self._refuse_module(node, module)
        else:
            rule = self._modules.get(module)
            listed = rule.names if rule is not None else frozenset()
            for alias in node.names:
                submodule = f"{module}.{alias.name}"
                if alias.name == "*" or alias.name in listed:
                    continue
                if module != _FUTURE and self._module_known(submodule):
                    continue
                self.refuse(node, f"{alias.name!r} cannot be imported from {module!r} (not available to tools)")
        return super().visit_ImportFrom(node)


# ---------------------------------------------------------------------------------------
# Compiling
# ---------------------------------------------------------------------------------------


def _problems(filename: str, raw: Iterable[tuple[int, int, str]]) -> tuple[list[CompileProblem], int]:
    """Sorted, de-duplicated problems for one file, capped; and how many were left out."""
    seen: set[tuple[int, str]] = set()
    ordered = []
    for line, column, message in sorted(raw, key=lambda item: (item[0], item[1])):
        if (line, message) in seen:
            continue
        seen.add((line, message))
        ordered.append(CompileProblem(filename, line or None, message))
    return ordered[:MAX_PROBLEMS_PER_FILE], max(0, len(ordered) - MAX_PROBLEMS_PER_FILE)


def _fail(filename: str | None, line: int | None, message: str) -> CompileErrors:
    return CompileErrors([CompileProblem(filename, line, message)])


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
    except (MemoryError, RecursionError):
        raise _fail(filename, None, f"source is nested too deeply to parse (limit {MAX_AST_DEPTH} levels)") from None

    deep = _too_deep(tree)
    if deep is not None:
        raise _fail(filename, _line(deep), f"code is nested too deeply (more than {MAX_AST_DEPTH} levels)")
    complexity = _too_complex(tree)
    if complexity is not None:
        raise _fail(filename, None, complexity)

    functions = [(n.name, n.lineno) for n in tree.body if isinstance(n, ast.FunctionDef)]
    tree = _AugmentedAssignmentExpander().visit(tree)
    transformer = ToolTransformer(policy, _bound_names(tree))
    tree = transformer.visit(tree)
    if transformer.problems:
        problems, omitted = _problems(filename, transformer.problems)
        raise CompileErrors(problems, omitted=omitted)

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
        sha256=_digest("toolpool-compiled-tool-v1", filename, policy.fingerprint(), source),
        functions=tuple(names),
    )
    return _Entry(tool, tuple(lines))


def _compile_entry(source: Any, filename: Any, policy: Policy) -> _Entry:
    _check_policy(policy)
    problem = _filename_problem(filename)
    if problem is not None:
        raise CompileErrors([problem])
    if not isinstance(source, str):
        raise _fail(filename, None, f"source must be text (str), got {type(source).__name__}")
    source = str.__str__(source)  # an exact str: a subclass could lie about hash or equality
    problem = _source_problem(source, filename, policy.limits.source_bytes)
    if problem is not None:
        raise CompileErrors([problem])

    key = _digest("toolpool-compiled-tool-v1", filename, policy.fingerprint(), source)
    entry = _CACHE.get(key)
    if entry is not None:
        return entry
    try:
        entry = _compile_checked(source, filename, policy)
    except CompileFailure:
        raise
    except (MemoryError, RecursionError):
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
    runs ``code`` only with globals from ``sandbox.inside.guards.make_globals`` built from
    the same policy.
    """
    return _compile_entry(source, filename, policy).tool


def compile_bundle(files: Mapping[str, str], policy: Policy = DEFAULT_POLICY) -> Bundle:
    """Compile every file of a bundle, reporting every problem of every file at once.

    ``files`` maps a relative path (``tools/booking.py``) to its source. Top-level function
    names must be unique across the bundle. Raises one ``CompileErrors`` listing all
    problems (each with its file and line), or ``InvalidInput`` for a policy on the floor.
    """
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
    for filename, source in files.items():
        try:
            entries[filename] = _compile_entry(source, filename, policy)
        except CompileErrors as exc:
            problems.extend(exc.errors)
            omitted += exc.omitted

    owners: dict[str, tuple[str, int]] = {}
    for filename in sorted(entries):
        entry = entries[filename]
        for name, line in zip(entry.tool.functions, entry.function_lines):
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
        problems.sort(key=lambda p: (p.file is not None, p.file or "", p.line or 0))
        raise CompileErrors(problems, omitted=omitted)

    names = sorted(entries)
    version_id = _digest(
        "toolpool-bundle-v1",
        policy.fingerprint(),
        *(part for name in names for part in (name, entries[name].tool.source)),
    )
    return Bundle(
        files=MappingProxyType({name: entries[name].tool for name in names}),
        functions=MappingProxyType({name: owner for name, (owner, _) in sorted(owners.items())}),
        version_id=version_id,
    )
