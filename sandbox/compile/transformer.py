"""The compile-time layer: RestrictedPython's rewrites under this project's name rules.

Runs wherever tool source is compiled (``sandbox/compile/compiler.py``), never executes tool
code, and trusts only the ``Policy`` it is given and RestrictedPython's transformer.

What the layer is for. The isolation boundary is the confined process, and every layer
below holds on its own. This layer (a) rewrites every attribute read, item read,
iteration, unpacking, write and star-call into a call of a guard the child binds
(``sandbox/child/guards.py``), which is where run-time decisions are made; (b) refuses
at deploy time, with the file, the line and what to do instead, what can be seen to be
a door already in the source: the import of a module outside the policy, a builtin such
as ``open`` or ``eval``, a door attribute such as ``f_globals`` or ``__subclasses__``, a
class member that would hook the runtime (``__del__``); and (c) lets ordinary Python
through: private names, classes with data-model methods, ``super()``, ``match``,
``nonlocal``, ``getattr``, ``str.format``.

Rules on top of RestrictedPython's transformer (whose deny-by-default stands: any node
type without a visitor is refused, so a new Python's syntax waits for review):

================================  =======================================================
guard names                        RestrictedPython emits ``_getattr_(...)`` etc.; every
                                   such name it emitted is renamed to an unspellable one
                                   (``sandbox/guardnames.py``), so tools may use those
                                   spellings for their own things and can never bind,
                                   shadow or delete a guard in any binding form
names starting with ``_``          allowed: ``_helper``, ``_CACHE``, ``self._attempts``;
                                   private ``__x`` is name-mangled as CPython does, also in
                                   the attribute name passed to the guard
dunder names                       bound only where Python gives them meaning: data-model
                                   methods in class bodies (``REFUSED_METHODS`` refused
                                   with their reason), ``__slots__``/``__match_args__``/
                                   ``__doc__`` in classes, ``__all__``/``__version__`` in
                                   modules; read only from ``DUNDER_NAMES_READ`` or names
                                   the file binds itself; never written as attributes
door attributes                    ``FORBIDDEN_ATTRIBUTES`` (frames, code, globals,
                                   class-graph walks) refused with their reason
builtins                           Python builtins outside the policy refused with what to
                                   use instead, unless the file defines that name itself
imports                            only the policy's modules and names; imports under
                                   ``if TYPE_CHECKING:`` are left to the run-time guard
                                   (they do not run)
``match``                          allowed; the attribute chains of value and class
                                   patterns and the keyword names of class patterns are
                                   read natively by the interpreter, so they may name only
                                   public, non-door attributes
``try/except*``                    refused: CPython 3.11-3.13.1 type confusion
                                   (CVE-2025-22153)
async syntax                       refused: tools are synchronous
class keywords                     passed to the class guard, which checks the metaclass
================================  =======================================================

``a.b += v`` and ``a[k] += v`` are expanded so that the read, the in-place operator and
the write each go through their guard (RestrictedPython refuses augmented assignment to
attributes and items); see ``AugmentedAssignmentExpander`` in ``sandbox/compile/passes.py``,
which also has the survey that runs before this transformer and the guard renaming after it.
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from RestrictedPython.transformer import RestrictingNodeTransformer

from sandbox import guardnames, policy_tables
from sandbox.policy import Policy

_PYTHON_BUILTINS = frozenset(dir(builtins))
_FUTURE = "__future__"

# Syntax refused by node type: (what the customer wrote, why).
REFUSED_SYNTAX: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "TryStar": ("'try/except*'", "exception groups can confuse types in CPython: CVE-2025-22153"),
        "AsyncFunctionDef": ("'async def'", "tools are synchronous"),
        "Await": ("'await'", "tools are synchronous"),
        "AsyncFor": ("'async for'", "tools are synchronous"),
        "AsyncWith": ("'async with'", "tools are synchronous"),
    }
)

# Attribute names whose meaning depends on the object (the run-time guard decides);
# where the interpreter reads an attribute natively (match patterns) they are refused.
_NATIVE_REFUSED = frozenset({"obj", "fget", "fset", "fdel", "register", "format", "format_map"})

_MODULE, _CLASS, _FUNCTION = "module", "class", "function"


def line_of(node: ast.AST) -> int | None:
    line = getattr(node, "lineno", None)
    return line if isinstance(line, int) else None


def _located(new: Any, old: ast.AST) -> Any:
    """``new`` (a node made here, whose children already have locations) at ``old``'s place."""
    return ast.copy_location(new, old)


def is_dunder(name: str) -> bool:
    return len(name) > 4 and name.startswith("__") and name.endswith("__")


def mangle(class_name: str | None, name: str) -> str:
    """CPython's private-name mangling: ``__x`` inside ``class _Foo`` is ``_Foo__x``."""
    if class_name is None or not name.startswith("__") or name.endswith("__") or "." in name:
        return name
    stripped = class_name.lstrip("_")
    return f"_{stripped}{name}" if stripped else name


_RP_MESSAGES: Mapping[str, str] = MappingProxyType(
    {
        "Exec calls are not allowed.": f"'exec' is not available to tools: {policy_tables.REFUSED_BUILTINS['exec']}",
        "Eval calls are not allowed.": f"'eval' is not available to tools: {policy_tables.REFUSED_BUILTINS['eval']}",
        "Augmented assignment of attributes is not allowed.": (
            "augmented assignment to this attribute is not allowed; write x.a = x.a + 1 instead of x.a += 1"
        ),
        "Augmented assignment of object items and slices is not allowed.": (
            "augmented assignment to this item is not allowed; write x[k] = x[k] + 1 instead of x[k] += 1"
        ),
        '"*" imports are not allowed.': "'import *' is not allowed; import the names you use",
    }
)


def _customer_message(info: str) -> str:
    return _RP_MESSAGES.get(info, info.rstrip("."))


def _builtin_message(name: str) -> str:
    reason = policy_tables.REFUSED_BUILTINS.get(name, "it is not one of the builtins tools may use")
    return f"{name!r} is not available to tools: {reason}"


def _module_message(name: str, modules: Mapping[str, Any]) -> str:
    top = name.split(".")[0]
    reason = policy_tables.REFUSED_MODULES.get(name) or policy_tables.REFUSED_MODULES.get(top)
    if not reason:
        allowed = ", ".join(sorted(m for m in modules if m != _FUTURE))
        reason = f"tools may import: {allowed}"
    return f"import of {name!r} is not allowed: {reason}"


def _type_checking_test(test: ast.AST) -> bool:
    """``if TYPE_CHECKING:`` or ``if typing.TYPE_CHECKING:``."""
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING" and isinstance(test.value, ast.Name)


class ToolTransformer(RestrictingNodeTransformer):
    """RestrictedPython's transformer with this project's rules (see the module docstring).

    Problems are collected as (line, column, message); the caller turns them into compile
    errors. Any problem means no code is produced, so a visitor that refuses a node may
    leave it untransformed.
    """

    def __init__(self, policy: Policy, bound: frozenset[str]):
        super().__init__()
        self.problems: list[tuple[int, int, str]] = []
        self._bound = bound
        self._builtins = frozenset(policy.builtins)
        self._forbidden = policy.forbidden_attributes
        self._classes_allowed = "__build_class__" in policy.builtins
        self._modules = policy.modules
        self._scopes: list[str] = [_MODULE]
        self._classes: list[str | None] = [None]  # the class whose names are mangled
        self._type_checking = 0

    # -- recording -----------------------------------------------------------------------

    def refuse(self, node: ast.AST, message: str) -> None:
        self.problems.append((line_of(node) or 0, getattr(node, "col_offset", 0) or 0, message))

    def error(self, node: ast.AST, info: str) -> None:  # RestrictedPython's one funnel
        self.refuse(node, _customer_message(info))

    def warn(self, node: ast.AST, info: str) -> None:
        pass  # RestrictedPython's warnings are noise for customers

    def not_allowed(self, node: ast.AST) -> None:
        # RP calls this for refused nodes and, through generic_visit, for every node type
        # it has no visitor for: deny by default.
        name = type(node).__name__
        label, reason = REFUSED_SYNTAX.get(name, (f"{name!r} syntax", "not reviewed for the sandbox"))
        self.refuse(node, f"{label} is not allowed ({reason})")

    def gen_tmp_name(self) -> str:
        name = f"{guardnames.TEMPORARY_PREFIX}{self._tmp_idx}"
        self._tmp_idx += 1
        return name

    def check_name(self, node: ast.AST, name: str | None, allow_magic_methods: bool = False) -> None:
        """RestrictedPython's name check refuses every ``_`` name; ours run in the visitors."""

    # -- names ---------------------------------------------------------------------------

    def _binding_problem(self, name: str, *, method: bool = False) -> str | None:
        """Why tool code may not bind ``name`` here, or None."""
        if not is_dunder(name):
            return None
        scope = self._scopes[-1]
        if scope == _CLASS:
            if name in policy_tables.REFUSED_METHODS:
                return f"defining {name!r} is not allowed ({policy_tables.REFUSED_METHODS[name]})"
            if name in policy_tables.DUNDER_METHODS or name in policy_tables.DUNDER_CLASS_VARIABLES:
                return None
            return (
                f"{name!r} cannot be defined in a tool class: it is not one of the data-model methods tools may define"
            )
        if scope == _MODULE and not method and name in policy_tables.DUNDER_MODULE_VARIABLES:
            return None
        return f"name {name!r} cannot be bound in tools (names with two leading and trailing underscores are Python's)"

    def _check_binding(self, node: ast.AST, name: str | None, *, method: bool = False) -> None:
        if name is None:
            return
        problem = self._binding_problem(name, method=method)
        if problem is not None:
            self.refuse(node, problem)

    def visit_Name(self, node: ast.Name) -> Any:
        name = node.id
        if isinstance(node.ctx, ast.Load):
            if is_dunder(name):
                if not (
                    name in policy_tables.DUNDER_NAMES_READ
                    or name in self._bound
                    or name in policy_tables.DUNDER_METHODS
                ):
                    self.refuse(node, f"name {name!r} is not available to tools")
            elif name in _PYTHON_BUILTINS and name not in self._builtins and name not in self._bound:
                self.refuse(node, _builtin_message(name))
        else:
            self._check_binding(node, name)
        return node

    def visit_Global(self, node: ast.Global) -> Any:
        for name in node.names:
            if is_dunder(name):
                self.refuse(node, f"name {name!r} cannot be declared global in tools")
        return node

    def visit_Nonlocal(self, node: ast.Nonlocal) -> Any:
        for name in node.names:
            if is_dunder(name):
                self.refuse(node, f"name {name!r} cannot be declared nonlocal in tools")
        return node

    # -- definitions -----------------------------------------------------------------------

    def _check_arguments(self, node: ast.FunctionDef | ast.Lambda) -> None:
        args = node.args
        for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg):
            if arg is not None and is_dunder(arg.arg):
                self.refuse(
                    node,
                    f"parameter {arg.arg!r} is not allowed (names with two leading and "
                    "trailing underscores are Python's)",
                )

    def visit_FunctionDef(self, node: ast.FunctionDef) -> Any:
        self._check_binding(node, node.name, method=True)
        self._check_arguments(node)
        self._scopes.append(_FUNCTION)
        try:
            return self.node_contents_visit(node)
        finally:
            self._scopes.pop()

    def visit_Lambda(self, node: ast.Lambda) -> Any:
        self._check_arguments(node)
        self._scopes.append(_FUNCTION)
        try:
            return self.node_contents_visit(node)
        finally:
            self._scopes.pop()

    def visit_ClassDef(self, node: ast.ClassDef) -> Any:
        if not self._classes_allowed:
            self.refuse(node, "'class' definitions are not allowed by this policy")
        self._check_binding(node, node.name)
        # Bases, keywords and decorators are evaluated in the enclosing scope.
        node.bases = [self.visit(base) for base in node.bases]
        node.keywords = [self.visit(keyword) for keyword in node.keywords]
        node.decorator_list = [self.visit(decorator) for decorator in node.decorator_list]
        self._scopes.append(_CLASS)
        self._classes.append(node.name)
        try:
            body: list[ast.stmt] = []
            for statement in node.body:
                visited = self.visit(statement)
                if isinstance(visited, list):
                    body.extend(visited)
                elif visited is not None:
                    body.append(visited)
            node.body = body
        finally:
            self._classes.pop()
            self._scopes.pop()
        return node

    def visit_AnnAssign(self, node: ast.AnnAssign) -> Any:
        # Reviewed: target, annotation and value are visited like an Assign's (Name
        # targets name-checked, Attribute/Subscript targets through the write guard), and
        # an AnnAssign target cannot be a tuple, so no unpacking guard is needed.
        return self.node_contents_visit(node)

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> Any:
        self._check_binding(node, node.name)
        return self.node_contents_visit(node)

    def visit_TryStar(self, node: ast.AST) -> Any:
        self.not_allowed(node)
        return node

    def visit_comprehension(self, node: ast.comprehension) -> Any:
        if node.is_async:
            self.refuse(node.target, "'async for' is not allowed (tools are synchronous)")
        return super().visit_comprehension(node)

    def visit_If(self, node: ast.If) -> Any:
        if not _type_checking_test(node.test):
            return self.node_contents_visit(node)
        node.test = self.visit(node.test)
        self._type_checking += 1
        try:
            node.body = self._visit_block(node.body)
        finally:
            self._type_checking -= 1
        node.orelse = self._visit_block(node.orelse)
        return node

    def _visit_block(self, statements: list[ast.stmt]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for statement in statements:
            visited = self.visit(statement)
            if isinstance(visited, list):
                out.extend(visited)
            elif visited is not None:
                out.append(visited)
        return out

    # -- attributes ----------------------------------------------------------------------

    def _attribute_problem(self, name: str) -> str | None:
        if name in self._forbidden:
            reason = self._forbidden[name]
            return f"attribute {name!r} is not available to tools ({reason})"
        return None

    def visit_Attribute(self, node: ast.Attribute) -> Any:
        name = mangle(self._classes[-1], node.attr)
        problem = self._attribute_problem(name)
        if problem is None and not isinstance(node.ctx, ast.Load) and is_dunder(name):
            problem = f"setting {name!r} is not allowed in tools"
        if problem is not None:
            self.refuse(node, problem)
            return self.node_contents_visit(node)
        node = self.node_contents_visit(node)
        names = guardnames.GUARD_NAMES
        if isinstance(node.ctx, ast.Load):
            guard = _located(ast.Name(names["_getattr_"], ast.Load()), node)
            return _located(
                ast.Call(func=guard, args=[node.value, _located(ast.Constant(name), node)], keywords=[]), node
            )
        guard = _located(ast.Name(names["_write_"], ast.Load()), node.value)
        node.value = _located(ast.Call(func=guard, args=[node.value], keywords=[]), node.value)
        return node

    # -- imports -------------------------------------------------------------------------

    def _module_known(self, name: str) -> bool:
        return name in self._modules or any(m.startswith(name + ".") for m in self._modules)

    def _check_aliases(self, node: ast.Import | ast.ImportFrom) -> None:
        if getattr(node, "is_lazy", 0):
            self.refuse(node, "'lazy import' is not allowed (it resolves around the import guard)")
        for alias in node.names:
            if alias.name == "*":
                self.refuse(node, "'import *' is not allowed; import the names you use")
            bound = alias.asname or alias.name.split(".")[0]
            self._check_binding(node, bound)

    def visit_Import(self, node: ast.Import) -> Any:
        self._check_aliases(node)
        if not self._type_checking:
            for alias in node.names:
                if alias.name == _FUTURE or not self._module_known(alias.name):
                    self.refuse(node, _module_message(alias.name, self._modules))
        return self.node_contents_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> Any:
        self._check_aliases(node)
        module = node.module or ""
        if node.level:
            self.refuse(node, "relative imports are not allowed (tools import only the platform's modules)")
        elif self._type_checking:
            pass
        elif not self._module_known(module):
            self.refuse(node, _module_message(module, self._modules))
        else:
            rule = self._modules.get(module)
            listed = rule.names if rule is not None else frozenset()
            for alias in node.names:
                submodule = f"{module}.{alias.name}"
                if alias.name == "*" or alias.name in listed:
                    continue
                if module != _FUTURE and self._module_known(submodule):
                    continue
                reason = policy_tables.LEFT_OUT.get(module, {}).get(alias.name)
                self.refuse(
                    node,
                    f"{alias.name!r} cannot be imported from {module!r} (not available to tools"
                    + (f": {reason})" if reason else ")"),
                )
        return self.node_contents_visit(node)

    # -- match ---------------------------------------------------------------------------

    def _check_native_attribute(self, node: ast.AST, name: str) -> None:
        """An attribute the interpreter reads itself, around the attribute guard."""
        problem = self._attribute_problem(name)
        if problem is None and (name.startswith("_") or name in _NATIVE_REFUSED):
            problem = (
                f"a match pattern may not name attribute {name!r} (patterns read attributes "
                "outside the sandbox's checks); test it in a guard: case x if ..."
            )
        if problem is not None:
            self.refuse(node, problem)

    def _check_pattern_chain(self, node: ast.AST) -> None:
        """A value or class pattern: a dotted name, or a literal."""
        while isinstance(node, ast.Attribute):
            self._check_native_attribute(node, node.attr)
            node = node.value
        if isinstance(node, ast.Name):
            self.visit_Name(ast.copy_location(ast.Name(node.id, ast.Load()), node))

    def visit_Match(self, node: ast.Match) -> Any:
        node.subject = self.visit(node.subject)
        node.cases = [self.visit(case) for case in node.cases]
        return node

    def visit_match_case(self, node: ast.match_case) -> Any:
        node.pattern = self.visit(node.pattern)
        if node.guard is not None:
            node.guard = self.visit(node.guard)
        node.body = self._visit_block(node.body)
        return node

    def visit_MatchValue(self, node: ast.MatchValue) -> Any:
        self._check_pattern_chain(node.value)
        return node

    def visit_MatchSingleton(self, node: ast.MatchSingleton) -> Any:
        return node

    def visit_MatchSequence(self, node: ast.MatchSequence) -> Any:
        node.patterns = [self.visit(pattern) for pattern in node.patterns]
        return node

    def visit_MatchStar(self, node: ast.MatchStar) -> Any:
        self._check_binding(node, node.name)
        return node

    def visit_MatchMapping(self, node: ast.MatchMapping) -> Any:
        for key in node.keys:
            self._check_pattern_chain(key)
        node.patterns = [self.visit(pattern) for pattern in node.patterns]
        self._check_binding(node, node.rest)
        return node

    def visit_MatchClass(self, node: ast.MatchClass) -> Any:
        self._check_pattern_chain(node.cls)
        for name in node.kwd_attrs:
            self._check_native_attribute(node, name)
        node.patterns = [self.visit(pattern) for pattern in node.patterns]
        node.kwd_patterns = [self.visit(pattern) for pattern in node.kwd_patterns]
        return node

    def visit_MatchAs(self, node: ast.MatchAs) -> Any:
        self._check_binding(node, node.name)
        if node.pattern is not None:
            node.pattern = self.visit(node.pattern)
        return node

    def visit_MatchOr(self, node: ast.MatchOr) -> Any:
        node.patterns = [self.visit(pattern) for pattern in node.patterns]
        return node
