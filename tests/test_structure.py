"""The tree's shape, checked by reading the source: no import cycles, layers that import
only what they may, and no file too long to read whole. Nothing here starts a process or
imports the modules it checks; a failure names every module, file and line that breaks a
rule, all at once.

What is checked. Every ``.py`` file under sandbox/, worker/, toolpool/, bench/ and tests/
is a module when every folder from the top one down to it is a package (has an
``__init__.py``). The other ``.py`` files are tool source kept as data (tests/escapes/,
tests/seeds/, tests/customers/tools/, bench/tools/, worker/starter/): sent to the sandbox
or copied, never imported by the tree, so their imports are the sandbox's business and
only the length rule applies to them. The generated stubs under worker/_proto are modules
others import, but their own imports and length are protoc's, so they are not read.

What counts as an import. Every ``import`` and ``from ... import`` anywhere in a module:
at module level, inside functions and under ``if TYPE_CHECKING:`` alike, because a cycle
that closes only at call time, or only for the type checker, still means two modules
each need the other to be read first. Relative imports are resolved against the
importing module; ``from pkg import name`` counts as importing the submodule
``pkg.name`` when that is a module of the tree, and ``pkg`` otherwise. Importing
``a.b.c`` counts as importing ``a.b.c``, not its parent packages: a package whose
``__init__`` imports its own submodules is the ordinary shape, not a cycle (the light
client's check below does follow parent packages, since Python loads them).
``importlib.import_module`` with a computed name is not seen.

File length: a file over ``MAX_LINES`` lines says why at its top, in a line of its
module docstring, or for a file with no docstring (a corpus case, whose leading comments
are its header) of its leading comments, that starts with ``Over 600 lines because``.
"""

from __future__ import annotations

import ast
import itertools
import re
from collections import deque
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("sandbox", "worker", "toolpool", "bench", "tests")
GENERATED = "worker/_proto"
MAX_LINES = 600
LONG_FILE_MARKER = re.compile(rf"^Over {MAX_LINES} lines because \S")

# What each layer must not import, anywhere in it (by dotted-name prefix).
GRPC = ("grpc", "grpc_health", "grpc_reflection", "grpc_status", "google.protobuf", "google.rpc")
FORBIDDEN_IMPORTS: dict[str, tuple[str, ...]] = {
    "sandbox": ("worker", "toolpool", "bench", "tests", *GRPC),  # a library; never the service or the wire
    "worker": ("bench", "tests"),
    "toolpool": ("bench", "tests"),
}

# Within sandbox/, a folder is a process (docs/architecture.md): code that runs in a
# confined child, a compile worker or the confinement steps never imports the server's
# side of the sandbox (the supervisor, egress) or the template's.
PROCESS_IMPORTS: dict[str, tuple[str, ...]] = {
    "sandbox.child": ("sandbox.supervisor", "sandbox.egress", "sandbox.template"),
    "sandbox.compile": ("sandbox.supervisor", "sandbox.egress", "sandbox.template"),
    "sandbox.confine": ("sandbox.supervisor", "sandbox.egress", "sandbox.template", "sandbox.child", "sandbox.compile"),
}

# The light client: what ``toolpool.Client`` may load at run time (tests/toolpool/
# test_light_client.py checks the same in a fresh interpreter). Its own package, the
# generated stubs and the ``worker`` package they sit in; never the sandbox, the service
# or the store, and not ``toolpool.testing``, which runs the real sandbox.
LIGHT_ROOTS = ("toolpool", "toolpool.client", "toolpool.result", "toolpool.tool")
LIGHT_ALLOWED = ("toolpool", "worker._proto")
LIGHT_ALLOWED_EXACTLY = frozenset({"worker"})
HEAVY = ("toolpool.testing", "toolpool.pytest_plugin")


@dataclass(frozen=True)
class Import:
    """One import statement's resolved target, and where it was written."""

    source: str  # the importing module
    target: str  # what it imports: a module of the tree, or an outside name as written
    path: Path
    line: int
    context: str  # "module level", "in a function" or "under TYPE_CHECKING"

    def describe(self) -> str:
        return f"{relative(self.path)}:{self.line} ({self.context}): {self.source} imports {self.target}"


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def fail_if(problems: list[str], heading: str) -> None:
    """Fails with every problem, one per line under ``heading``, and no traceback to read."""
    if problems:
        pytest.fail(heading + "\n" + "\n".join("  " + problem for problem in problems), pytrace=False)


# -- the modules --------------------------------------------------------------------------


@cache
def python_files() -> tuple[Path, ...]:
    return tuple(sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py")))


def is_module_file(path: Path) -> bool:
    """Importable as part of the tree: every folder from the top package down is a package."""
    folder = path.parent
    while folder != ROOT:
        if not (folder / "__init__.py").exists():
            return False
        folder = folder.parent
    return True


def is_generated(path: Path) -> bool:
    return relative(path).startswith(GENERATED + "/")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def modules() -> dict[str, Path]:
    """Every module of the tree by dotted name, generated stubs included (they are imported)."""
    return {module_name(p): p for p in python_files() if is_module_file(p)}


@cache
def read_modules() -> tuple[Path, ...]:
    """The modules whose imports this file reads: all but the generated stubs."""
    return tuple(p for p in modules().values() if not is_generated(p))


# -- imports ------------------------------------------------------------------------------


def is_type_checking(test: ast.expr) -> bool:
    """``if TYPE_CHECKING:`` or ``if typing.TYPE_CHECKING:``."""
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def import_nodes(node: ast.AST, context: str = "module level"):
    """(node, context) for every import statement below ``node``, wherever it is."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            yield child, context
        elif isinstance(child, ast.If) and is_type_checking(child.test):
            for statement in child.body:
                yield from import_nodes(ast.Module(body=[statement], type_ignores=[]), "under TYPE_CHECKING")
            for statement in child.orelse:
                yield from import_nodes(ast.Module(body=[statement], type_ignores=[]), context)
        elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) and context == "module level":
            yield from import_nodes(child, "in a function")
        else:
            yield from import_nodes(child, context)


def absolute_base(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The dotted name ``from <...>`` refers to, a relative one resolved against ``module``."""
    if node.level == 0:
        return node.module or ""
    package = module.split(".") if is_package else module.split(".")[:-1]
    package = package[: len(package) - (node.level - 1)]
    return ".".join(package + ([node.module] if node.module else []))


def tree_module(name: str) -> str | None:
    """``name`` when it is a module of the tree, else its longest prefix that is, else None."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules():
            return candidate
    return None


def imports_in(module: str, is_package: bool, source: str, path: Path) -> list[Import]:
    """The imports of ``source``, the text of ``module`` at ``path``, resolved."""
    found = []
    for node, context in import_nodes(ast.parse(source, filename=str(path))):
        if isinstance(node, ast.Import):
            targets = [tree_module(alias.name) or alias.name for alias in node.names]
        else:
            base = absolute_base(module, is_package, node)
            targets = []
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                targets.append(submodule if submodule in modules() else tree_module(base) or submodule)
        for target in dict.fromkeys(targets):
            found.append(Import(module, target, path, node.lineno, context))
    return found


def imports_of(path: Path) -> list[Import]:
    return imports_in(module_name(path), path.name == "__init__.py", path.read_text(), path)


@cache
def all_imports() -> tuple[Import, ...]:
    return tuple(found for path in read_modules() for found in imports_of(path))


@cache
def graph() -> dict[str, dict[str, Import]]:
    """module -> {module of the tree it imports -> the first statement that imports it}."""
    edges: dict[str, dict[str, Import]] = {name: {} for name in modules()}
    for found in all_imports():
        if found.target in modules() and found.target != found.source:
            edges[found.source].setdefault(found.target, found)
    return edges


def under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


# -- cycles -------------------------------------------------------------------------------


def strongly_connected(edges: dict[str, dict[str, Import]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative (no recursion limit to meet); each component sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(edges[successor]))))
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    components.append(sorted(component))
    return components


def shortest_cycle(edges: dict[str, dict[str, Import]], start: str, within: set[str]) -> list[str]:
    """start -> ... -> start by the fewest imports, through modules of ``within`` only."""
    parent: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for successor in sorted(edges[node]):
            if successor == start:
                path = [node]
                while path[-1] != start:
                    path.append(parent[path[-1]])
                return [*path[::-1], start]
            if successor in within and successor not in parent:
                parent[successor] = node
                queue.append(successor)
    raise AssertionError(f"{start} is in a strongly connected component but on no cycle")


def describe_component(edges: dict[str, dict[str, Import]], component: list[str]) -> list[str]:
    """Cycles that between them pass through every module of ``component``: each as a path
    of module names, then the statement behind each of its imports."""
    lines = [f"{len(component)} modules import each other: {', '.join(component)}"]
    covered: set[str] = set()
    for start in component:
        if start in covered:
            continue
        cycle = shortest_cycle(edges, start, set(component))
        covered.update(cycle)
        lines.append("  " + " → ".join(cycle))
        lines.extend("      " + edges[a][b].describe() for a, b in itertools.pairwise(cycle))
    return lines


def test_no_import_cycles():
    edges = graph()
    problems = []
    for component in strongly_connected(edges):
        if len(component) > 1:
            problems.extend(describe_component(edges, component))
    fail_if(
        problems,
        "import cycles; break each by moving what both sides need into a module that imports "
        "neither, or by handing it in as an argument:",
    )


# -- layers -------------------------------------------------------------------------------


def test_layers_import_only_downward():
    problems = []
    for found in all_imports():
        layer = found.source.split(".")[0]
        forbidden = [prefix for prefix in FORBIDDEN_IMPORTS.get(layer, ()) if under(found.target, (prefix,))]
        if forbidden:
            problems.append(f"{found.describe()}: {layer}/ must not import {forbidden[0]}")
        for package, never in PROCESS_IMPORTS.items():
            crossing = [
                prefix for prefix in never if under(found.source, (package,)) and under(found.target, (prefix,))
            ]
            if crossing:
                problems.append(f"{found.describe()}: {package} runs in another process than {crossing[0]}")
    fail_if(problems, "imports across layers:")


def loaded_at_run_time(root: str) -> dict[str, tuple[str, Import | None]]:
    """Every module of the tree that importing ``root`` and calling into it can load, each
    with the module that loads it and how: imports at module level and in functions, and
    the parent packages Python loads first. Not what is imported under TYPE_CHECKING."""
    by_source: dict[str, list[Import]] = {}
    for found in all_imports():
        if found.context != "under TYPE_CHECKING" and found.target in modules():
            by_source.setdefault(found.source, []).append(found)
    reached: dict[str, tuple[str, Import | None]] = {root: (root, None)}
    queue = deque([root])
    while queue:
        module = queue.popleft()
        following: list[tuple[str, Import | None]] = [(i.target, i) for i in by_source.get(module, [])]
        parts = module.split(".")
        following += [(".".join(parts[:end]), None) for end in range(1, len(parts))]  # parent packages
        for target, how in following:
            if target not in reached:
                reached[target] = (module, how)
                queue.append(target)
    return reached


def chain(reached: dict[str, tuple[str, Import | None]], module: str) -> str:
    steps = []
    while True:
        loader, how = reached[module]
        if how is None and loader == module:
            break
        steps.append(how.describe() if how else f"{loader} loads its package {module} first")
        module = loader
    return "\n    ".join(reversed(steps))


def test_the_light_client_loads_nothing_of_the_sandbox_the_service_or_the_store():
    problems = []
    for root in LIGHT_ROOTS:
        reached = loaded_at_run_time(root)
        for module in sorted(reached):
            allowed = (under(module, LIGHT_ALLOWED) and not under(module, HEAVY)) or module in LIGHT_ALLOWED_EXACTLY
            if not allowed:
                problems.append(f"{root} loads {module}:\n    {chain(reached, module)}")
    fail_if(
        problems,
        "the light client (toolpool, toolpool.client) may load only toolpool's own modules and "
        "the generated stubs; import what the sandbox or the service defines under "
        "TYPE_CHECKING, or move it:",
    )


# -- length -------------------------------------------------------------------------------


def line_count(text: str) -> int:
    return text.count("\n") + (0 if text.endswith("\n") or not text else 1)


def top_text(text: str) -> list[str]:
    """The lines of the module docstring; for a file without one, of its leading comments."""
    try:
        docstring = ast.get_docstring(ast.parse(text), clean=True)
    except SyntaxError:  # a corpus case may be refused by the parser on purpose
        docstring = None
    if docstring is not None:
        return docstring.splitlines()
    lines = []
    for line in text.splitlines():
        if line.startswith("#"):
            lines.append(line.lstrip("#").strip())
        elif line.strip():
            break
    return lines


def says_why_it_is_long(text: str) -> bool:
    return any(LONG_FILE_MARKER.match(line.strip()) for line in top_text(text))


def long_files() -> dict[str, int]:
    """Files over MAX_LINES that do not say why, by path, with their length."""
    found = {}
    for path in python_files():
        if is_generated(path):
            continue
        text = path.read_text()
        lines = line_count(text)
        if lines > MAX_LINES and not says_why_it_is_long(text):
            found[relative(path)] = lines
    return found


def test_no_file_is_too_long_to_read_whole():
    offenders = long_files()
    fail_if(
        [f"{path}: {lines} lines" for path, lines in sorted(offenders.items())],
        f"files over {MAX_LINES} lines; split each along a seam (a file per process, per concern, per group "
        f"of tests), or start a line of its module docstring with 'Over {MAX_LINES} lines because' and say "
        "why it reads best whole:",
    )


# -- this file's own reading of imports ---------------------------------------------------


def test_imports_are_read_everywhere_and_resolved():
    """The reader sees imports in functions and under TYPE_CHECKING, and resolves relative
    and ``from package import submodule`` imports, against modules of the real tree."""
    source = (
        "from typing import TYPE_CHECKING\n"
        "from . import store\n"
        "from .store import base\n"
        "from ..sandbox import errors\n"
        "import worker.store.postgres as pg\n"
        "if TYPE_CHECKING:\n"
        "    from worker.config import Config\n"
        "def f():\n"
        "    from worker import translate\n"
    )
    path = ROOT / "worker" / "_structure_probe.py"  # never written: only its name is used
    found = [(i.target, i.context) for i in imports_in("worker._structure_probe", False, source, path)]
    assert found == [
        ("typing.TYPE_CHECKING", "module level"),
        ("worker.store", "module level"),
        ("worker.store.base", "module level"),
        ("sandbox.errors", "module level"),
        ("worker.store.postgres", "module level"),
        ("worker.config", "under TYPE_CHECKING"),
        ("worker.translate", "in a function"),
    ]
