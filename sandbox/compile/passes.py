"""The passes around ``ToolTransformer``, each one walk over the parsed tree.

Runs wherever tool source is compiled (``sandbox/compile/compiler.py`` calls them in this
order), never executes tool code, and trusts nothing about the tree it is given:

    Survey                        before anything is transformed: depth, size, scopes,
                                  the names the file binds, the tool's own names spelled
                                  like a guard; iterative, so a deep tree is refused
                                  before any recursive pass sees it
    AugmentedAssignmentExpander   ``a.b += v`` and ``a[k] += v`` expanded so that the read,
                                  the in-place operator and the write each go through a
                                  guard (only when the survey found one)
    (ToolTransformer)             RestrictedPython's rewrites under this project's rules
                                  (``sandbox/compile/transformer.py``)
    rename_guard_names            every guard name RestrictedPython emitted renamed to
                                  one no tool can spell (``sandbox/guardnames.py``)
"""

from __future__ import annotations

import ast
import copy
from typing import Any, cast

from RestrictedPython.transformer import IOPERATOR_TO_STR

from sandbox import guardnames

_GUARD_SPELLINGS = frozenset(guardnames.GUARD_NAMES)

_SCOPE_NODES = (
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.Lambda,
    ast.ClassDef,
    ast.ListComp,
    ast.SetComp,
    ast.DictComp,
    ast.GeneratorExp,
)


class Survey:
    """What one pass over a parsed tree finds, before anything is transformed.

    ``too_deep`` is the first node deeper than ``max_depth`` (or None); ``nodes`` and
    ``scopes`` count syntax nodes and nested scopes; ``bound`` is every name the file binds
    anywhere (a builtin name the file binds itself, ``input = conv.state.text``, is the
    tool's own variable); ``guard_spelled`` are the tool's own Name nodes spelled like a
    RestrictedPython guard; ``augmented`` says whether an augmented assignment to an
    attribute or item needs expanding. One iterative walk (no recursion: a deep tree must
    not blow the stack before it is refused)."""

    __slots__ = ("augmented", "bound", "guard_spelled", "nodes", "scopes", "too_deep")

    def __init__(self, tree: ast.AST, max_depth: int):
        self.too_deep: ast.AST | None = None
        self.nodes = self.scopes = 0
        self.guard_spelled: list[ast.Name] = []
        self.augmented = False
        bound: set[str] = set()
        stack: list[tuple[ast.AST, int]] = [(tree, 1)]
        while stack:
            node, depth = stack.pop()
            if depth > max_depth:
                self.too_deep = node
                break
            self.nodes += 1
            kind = type(node)  # each branch casts ``node`` to the exact type it tested
            if kind is ast.Name:
                name = cast(ast.Name, node)
                if type(name.ctx) is not ast.Load:
                    bound.add(name.id)
                if name.id in _GUARD_SPELLINGS:
                    self.guard_spelled.append(name)
            elif kind is ast.arg:
                bound.add(cast(ast.arg, node).arg)
            elif kind is ast.alias:
                alias = cast(ast.alias, node)
                bound.add(alias.asname or alias.name.split(".")[0])
            elif kind in (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef):
                bound.add(cast("ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef", node).name)
            elif kind is ast.ExceptHandler or kind is ast.MatchAs or kind is ast.MatchStar:
                caught = cast("ast.ExceptHandler | ast.MatchAs | ast.MatchStar", node).name
                if caught:
                    bound.add(caught)
            elif kind is ast.MatchMapping and (rest := cast(ast.MatchMapping, node).rest):
                bound.add(rest)
            elif kind is ast.AugAssign and type(cast(ast.AugAssign, node).target) is not ast.Name:
                self.augmented = True
            if kind in _SCOPE_NODES:
                self.scopes += 1
            stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
        self.bound = frozenset(bound)


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


class AugmentedAssignmentExpander(ast.NodeTransformer):
    """Rewrite ``a.b += v`` and ``a[k] += v`` so that both halves go through the guards.

    RestrictedPython refuses augmented assignment to attributes and items, yet
    ``conv.state.attempts += 1``, ``self._count += 1`` and ``totals[key(x)] += 1`` are what
    customers write. ``a[k] += v`` becomes ``a[k] = $inplace("+=", a[k], v)``: the read goes
    through ``$getitem``/``$getattr``, the write through ``$write``, and ``$inplace`` applies
    the in-place operator (``list += ...`` extends the same list, as in CPython). A target
    whose object or key has side effects (``totals[key(x)]``) is evaluated once into
    temporaries first, as CPython evaluates it once. Only a slice with side effects is left
    alone (RestrictedPython then refuses it with a message that shows the rewrite).
    """

    def __init__(self) -> None:
        self._count = 0

    def _temporary(self, value: ast.expr, statements: list[ast.stmt], temps: list[str]) -> ast.expr:
        if _pure(value):
            return value
        name = f"{guardnames.AUGMENTED_PREFIX}{self._count}"
        self._count += 1
        statements.append(ast.Assign(targets=[ast.Name(name, ast.Store())], value=value))
        temps.append(name)
        return ast.Name(name, ast.Load())

    def visit_AugAssign(self, node: ast.AugAssign) -> Any:
        target = node.target
        statements: list[ast.stmt] = []
        temps: list[str] = []
        if isinstance(target, ast.Attribute):
            owner = self._temporary(target.value, statements, temps)
            load: ast.expr = ast.Attribute(value=copy.deepcopy(owner), attr=target.attr, ctx=ast.Load())
            store: ast.expr = ast.Attribute(value=copy.deepcopy(owner), attr=target.attr, ctx=ast.Store())
        elif isinstance(target, ast.Subscript):
            key = target.slice
            if isinstance(key, ast.Slice) and not all(
                part is None or _pure(part) for part in (key.lower, key.upper, key.step)
            ):
                return node
            owner = self._temporary(target.value, statements, temps)
            if not isinstance(key, ast.Slice):
                key = self._temporary(key, statements, temps)
            load = ast.Subscript(value=copy.deepcopy(owner), slice=copy.deepcopy(key), ctx=ast.Load())
            store = ast.Subscript(value=copy.deepcopy(owner), slice=copy.deepcopy(key), ctx=ast.Store())
        else:
            return node
        for part in (load, store):
            for sub in ast.walk(part):
                if sub is not part and hasattr(sub, "ctx"):
                    sub.ctx = ast.Load()
        operator = ast.Constant(IOPERATOR_TO_STR[type(node.op)])
        inplace = ast.Name(guardnames.GUARD_NAMES["_inplacevar_"], ast.Load())
        value = ast.Call(func=inplace, args=[operator, load, node.value], keywords=[])
        statements.append(ast.Assign(targets=[store], value=value))
        if temps:
            statements.append(ast.Delete(targets=[ast.Name(name, ast.Del()) for name in temps]))
        for statement in statements:
            ast.copy_location(statement, node)
            ast.fix_missing_locations(statement)
        return statements


def tool_written_guard_names(tree: ast.AST) -> list[ast.Name]:
    """The Name nodes of the tool's own source spelled like a RestrictedPython guard
    (``_getattr_ = 1`` is a tool's own variable). Kept alive by the caller so their ids
    stay unique until ``rename_guard_names`` ran."""
    return [node for node in ast.walk(tree) if type(node) is ast.Name and node.id in _GUARD_SPELLINGS]


def rename_guard_names(tree: ast.AST, tool_written: list[ast.Name]) -> None:
    """Give every guard name RestrictedPython emitted its unspellable name."""
    own = {id(node) for node in tool_written}
    names = guardnames.GUARD_NAMES
    for node in ast.walk(tree):
        if type(node) is ast.Name and node.id in _GUARD_SPELLINGS and id(node) not in own:
            node.id = names[node.id]
