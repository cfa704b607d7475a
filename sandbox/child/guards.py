"""The globals tool code runs with: the guards, the tool's builtins, the import guard.

Runs in the confined child, beside tool code. ``sandbox/compile/compiler.py`` (supervisor side)
compiled the tool with RestrictedPython, which rewrote every sensitive operation into a
call of a guard, under names no tool can spell (``sandbox/guardnames.py``); this module
binds those guards. It trusts the policy spec (plain data from the supervisor) and the
``injected`` objects (the runtime's own). It trusts nothing a tool passes to a guard.
The compile-time checks come first; the guards assume they were broken one day and
repeat every check that can be repeated.

Globals made by ``make_globals(policy_spec, injected, module_name=...)``::

    __builtins__    only the policy's builtins: print routed to the log; getattr, setattr,
                    hasattr, delattr, vars and type guarded (sandbox/child/attributes.py);
                    __build_class__ the class guard (sandbox/child/toolobjects.py);
                    __import__ the import guard below
    __name__        the module's name (tools/booking.py -> "tools.booking"), so tool
                    classes get that __module__ and logging.getLogger(__name__) reads well
    $getattr        obj.name           the one attribute guard
    $write          obj.x = / obj[k] = / del ...   attribute writes through the same guard;
                                       item writes to dict, list, the collections
                                       containers and the tool's own objects
    $getitem, $getiter, $iter_unpack, $unpack, $inplace, $apply: plain operations
    + everything in ``injected`` (``log``, ``Conversation``...)

``policy_spec`` is ``{"modules": {name: [names]}, "builtins": [names], "forbidden": [names]}``,
with an optional ``"fingerprint"``; a spec of the fingerprint alone names a policy this
process has prepared already (the default one, prepared at import, before the template
forks: a fresh child then reads no policy at all).
``injected`` must contain ``log`` (an object with ``info(message)``): ``print`` writes
there, looking ``log`` up in the namespace at each call. Injected names must be
identifiers not starting with ``_``.

The floor: whatever the spec says, the builtins and modules in
``sandbox.policy_tables.REFUSED_BUILTINS``/``REFUSED_MODULES`` are refused (``ValueError``
from ``make_globals``), and the attribute names in ``FORBIDDEN_ATTRIBUTES`` are always
refused.

Importing this module imports every module of the default policy and loads the data
they read lazily (``views.preload``, ``modules.preload``): the template imports the
runtime before it confines its children, and a confined child has no filesystem.
"""

from __future__ import annotations

import builtins as _real_builtins
import operator
import types
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from sandbox import guardnames, policy_tables
from sandbox.child import modules, toolobjects, views
from sandbox.child.attributes import TOOL_TYPE, AttributeGuard
from sandbox.child.formatting import Formatter
from sandbox.policy import DEFAULT_POLICY

TOOL_MODULE_NAME = "tool"
"""``__name__`` of a tool module when the caller names none."""

_INPLACE_OPERATORS: Mapping[str, Callable[[Any, Any], Any]] = types.MappingProxyType(
    {
        "+=": operator.iadd,
        "-=": operator.isub,
        "*=": operator.imul,
        "/=": operator.itruediv,
        "//=": operator.ifloordiv,
        "%=": operator.imod,
        "**=": operator.ipow,
        "<<=": operator.ilshift,
        ">>=": operator.irshift,
        "&=": operator.iand,
        "|=": operator.ior,
        "^=": operator.ixor,
        "@=": operator.imatmul,
    }
)


class CallContext:
    """Per tool namespace: its attribute guard, and the current call's log and source.
    The runtime updates ``log``/``filename``/``source`` for each call of a reused child."""

    __slots__ = ("filename", "guard", "log", "source")

    def __init__(self, guard: AttributeGuard, log: Any, filename: str = "tool.py", source: str = ""):
        self.guard = guard
        self.log = log
        self.filename = filename
        self.source = source


# ---------------------------------------------------------------------------------------
# Spec checking
# ---------------------------------------------------------------------------------------


def _str_list(value: Any, field: str) -> list[str]:
    if not isinstance(value, (list, tuple, frozenset, set)) or not all(type(v) is str for v in value):
        raise ValueError(f"policy spec: {field} must be a list of names")
    return list(value)


def _read_spec(policy_spec: Mapping[str, Any]) -> tuple[dict[str, frozenset[str]], list[str], frozenset[str]]:
    """(modules, builtins, forbidden) from a policy spec, refusing anything on the floor."""
    if not isinstance(policy_spec, Mapping):
        raise ValueError("policy spec must be a mapping")
    raw_modules = policy_spec.get("modules", {})
    if not isinstance(raw_modules, Mapping):
        raise ValueError("policy spec: modules must be a mapping of module name to names")
    modules_: dict[str, frozenset[str]] = {}
    for name, names in raw_modules.items():
        if type(name) is not str or not name:
            raise ValueError("policy spec: module names must be non-empty str")
        top = name.split(".")[0]
        if name in policy_tables.REFUSED_MODULES or top in policy_tables.REFUSED_MODULES:
            raise ValueError(
                f"policy spec: module {name!r} can never be allowed: "
                f"{policy_tables.REFUSED_MODULES.get(name) or policy_tables.REFUSED_MODULES[top]}"
            )
        modules_[name] = frozenset(_str_list(names, f"modules[{name!r}]"))
    builtin_names = _str_list(policy_spec.get("builtins", []), "builtins")
    for name in builtin_names:
        if name in policy_tables.REFUSED_BUILTINS:
            raise ValueError(
                f"policy spec: builtin {name!r} can never be allowed: {policy_tables.REFUSED_BUILTINS[name]}"
            )
        if name != "print" and not hasattr(_real_builtins, name):
            raise ValueError(f"policy spec: {name!r} is not a Python builtin")
    forbidden = frozenset(_str_list(policy_spec.get("forbidden", []), "forbidden"))
    return modules_, builtin_names, forbidden


def _check_injected(injected: Mapping[str, Any]) -> None:
    if not isinstance(injected, Mapping):
        raise ValueError("injected must be a mapping of global name to object")
    for name in injected:
        if type(name) is not str or not name.isidentifier() or name.startswith("_"):
            raise ValueError(f"injected global {name!r} must be an identifier not starting with '_'")
    if "log" not in injected:
        raise ValueError("injected must contain 'log' (print() writes to log.info)")


# ---------------------------------------------------------------------------------------
# Items, iteration, unpacking, calls, in-place operators
# ---------------------------------------------------------------------------------------


def guarded_getitem(obj: Any, key: Any) -> Any:
    return obj[key]


def guarded_iter(obj: Any) -> Iterator[Any]:
    return iter(obj)


def guarded_unpack_sequence(it: Any, spec: Mapping[str, Any], getiter: Any = None) -> list[Any]:
    """``a, (b, c) = it``: materialise each level through ``iter``. ``spec`` is a compile-time
    constant made by RestrictedPython; the ``getiter`` argument is ignored in favour of ours."""
    values = list(guarded_iter(it))
    if len(values) < spec["min_len"]:
        return values  # the interpreter raises the usual "not enough values to unpack"
    for index, child_spec in spec["childs"]:
        values[index] = guarded_unpack_sequence(values[index], child_spec)
    return values


class _UnpackingIterator:
    """``for a, b in it``: a plain iterator (not a generator, so there is no frame to find)."""

    __slots__ = ("_it", "_spec")

    def __init__(self, it: Any, spec: Mapping[str, Any]):
        self._it = guarded_iter(it)
        self._spec = spec

    def __iter__(self) -> _UnpackingIterator:
        return self

    def __next__(self) -> list[Any]:
        return guarded_unpack_sequence(next(self._it), self._spec)


def guarded_iter_unpack_sequence(it: Any, spec: Mapping[str, Any], getiter: Any = None) -> _UnpackingIterator:
    return _UnpackingIterator(it, spec)


def guarded_apply(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return func(*args, **kwargs)


def guarded_inplacevar(op: str, target: Any, value: Any) -> Any:
    function = _INPLACE_OPERATORS.get(op)
    if function is None:
        raise TypeError(f"in-place operator {op!r} is not supported")
    return function(target, value)


# ---------------------------------------------------------------------------------------
# The guarded builtins: getattr, setattr, hasattr, delattr, vars
# ---------------------------------------------------------------------------------------

_MISSING = object()


def make_builtins(guard: AttributeGuard) -> dict[str, Callable[..., Any]]:
    """``getattr``, ``setattr``, ``hasattr``, ``delattr`` and ``vars`` deciding through ``guard``."""

    def getattr_(obj: Any, name: Any, default: Any = _MISSING, /) -> Any:
        if default is _MISSING:
            return guard.get(obj, name)
        try:
            return guard.get(obj, name)
        except AttributeError:
            return default

    def setattr_(obj: Any, name: Any, value: Any, /) -> None:
        guard.set(obj, name, value)

    def hasattr_(obj: Any, name: Any, /) -> bool:
        return guard.has(obj, name)

    def delattr_(obj: Any, name: Any, /) -> None:
        guard.delete(obj, name)

    def vars_(*args: Any) -> Any:
        if len(args) != 1:
            raise TypeError("vars() takes one argument in tools: vars(obj) is obj.__dict__")
        if toolobjects.is_tool_instance(args[0]):
            refusal = guard.refusal(args[0], "__dict__")
            if refusal is not None:
                raise TypeError(f"vars(): {refusal}")
        try:
            return guard.get(args[0], "__dict__")
        except AttributeError:
            raise TypeError("vars() argument must be one of the tool's own objects") from None

    for function, name in (
        (getattr_, "getattr"),
        (setattr_, "setattr"),
        (hasattr_, "hasattr"),
        (delattr_, "delattr"),
        (vars_, "vars"),
    ):
        function.__name__ = function.__qualname__ = name
    return {"getattr": getattr_, "setattr": setattr_, "hasattr": hasattr_, "delattr": delattr_, "vars": vars_}


# ---------------------------------------------------------------------------------------
# print
# ---------------------------------------------------------------------------------------


def make_print(namespace: Mapping[str, Any]) -> Callable[..., None]:
    """``print`` for tools: each call is one ``log.info`` record (the trailing newline
    dropped). ``file=`` is refused, since print only goes to the log."""

    def print(*objects: Any, sep: Any = " ", end: Any = "\n", file: Any = None, flush: Any = False) -> None:  # noqa: A001
        if file is not None:
            raise TypeError("print(file=...) is not supported: print writes to the tool's log")
        sep = " " if sep is None else sep
        end = "\n" if end is None else end
        if type(sep) is not str or type(end) is not str:
            raise TypeError("print(): sep and end must be str")
        text = sep.join(str(item) for item in objects) + end
        log = namespace.get("log")
        if log is None:
            raise RuntimeError("print() writes to the tool's log, but no 'log' is defined")
        log.info(text[:-1] if text.endswith("\n") else text)

    return print


# ---------------------------------------------------------------------------------------
# Imports
# ---------------------------------------------------------------------------------------


def make_import(modules_: Mapping[str, frozenset[str]], context: CallContext) -> Callable[..., Any]:
    """The guarded ``__import__``: only policy modules, returned as read-only views.

    ``import a.b`` returns a view of package ``a`` holding only ``b``; ``from a.b import x``
    checks each name against the policy before returning the view of ``a.b``; relative
    imports are refused. Views are built on first import and reused for this namespace.
    """
    cache: dict[str, views.ModuleView] = {}
    allowed = ", ".join(sorted(m for m in modules_ if m != "__future__"))

    def view_of(name: str) -> views.ModuleView:
        view = cache.get(name)
        if view is None:
            # Allowed submodules appear as views inside their parent's view, so that
            # `import urllib.parse` binds a `urllib` view holding a `parse` view.
            prefix = name + "."
            child_names = sorted({m[len(prefix) :].split(".")[0] for m in modules_ if m.startswith(prefix)})
            children = {child: view_of(prefix + child) for child in child_names}
            if name in modules_:
                view = views.build_view(
                    name, modules_[name], children, modules.standins(name, context), policy_tables.LEFT_OUT.get(name)
                )
            else:
                view = views.package_view(name, children)
            cache[name] = view
        return view

    def runtime_view(name: str) -> views.ModuleView:
        view = cache.get(name)
        if view is None:
            view = views.build_view(name, frozenset(policy_tables.RUNTIME_IMPORTS[name][1]), {})
            cache[name] = view
        return view

    def known(name: str) -> bool:
        return name in modules_ or any(m.startswith(name + ".") for m in modules_)

    def guarded_import(
        name: Any,
        globals: Any = None,  # noqa: A002 - __import__'s own signature
        locals: Any = None,  # noqa: A002
        fromlist: Any = (),
        level: Any = 0,
    ) -> views.ModuleView:
        if type(name) is str and name in policy_tables.RUNTIME_IMPORTS and level == 0:
            return runtime_view(name)
        if level != 0:
            raise ImportError("relative imports are not allowed in tools")
        if type(name) is not str or not known(name):
            shown = name if type(name) is str else type(name).__name__
            raise ImportError(f"import of {shown!r} is not allowed (tools may import: {allowed})")
        if fromlist:
            listed = modules_.get(name, frozenset())
            for item in fromlist:
                if type(item) is not str:
                    raise ImportError(f"cannot import a non-str name from {name!r}")
                if item not in listed and f"{name}.{item}" not in modules_ and not known(f"{name}.{item}"):
                    reason = policy_tables.LEFT_OUT.get(name, {}).get(item)
                    raise ImportError(
                        f"cannot import name {item!r} from {name!r} (not available to tools"
                        + (f": {reason})" if reason else ")")
                    )
            view = view_of(name)
            for item in fromlist:
                if item not in views.view_names(view):
                    raise ImportError(f"cannot import name {item!r} from {name!r} (not available in this runtime)")
            return view
        return view_of(name.split(".")[0])

    return guarded_import


# ---------------------------------------------------------------------------------------
# The globals
# ---------------------------------------------------------------------------------------


def module_name_for(filename: str) -> str:
    """The module name a file has when imported: ``tools/booking.py`` -> ``tools.booking``."""
    stem = filename[:-3] if filename.endswith(".py") else filename
    return stem.replace("/", ".")


class PreparedPolicy:
    """A policy spec read once: its modules, its builtins' names, and what every namespace
    under it shares (the attribute guard, which holds no per-namespace state, and the
    builtins that do not depend on the namespace)."""

    __slots__ = ("builtin_names", "guard", "modules", "shared_builtins")

    def __init__(self, policy_spec: Mapping[str, Any]):
        self.modules, self.builtin_names, forbidden = _read_spec(policy_spec)
        self.guard = AttributeGuard(forbidden)
        Formatter(self.guard)
        guarded = make_builtins(self.guard)
        shared: dict[str, Any] = {}
        for name in self.builtin_names:
            if name == "print":
                continue  # each namespace's own: it writes to that namespace's log
            if name in guarded:
                shared[name] = guarded[name]
            elif name == "type":
                shared[name] = TOOL_TYPE
            elif name == "__build_class__":
                shared[name] = toolobjects.build_class
            else:
                shared[name] = getattr(_real_builtins, name)
        self.shared_builtins = shared


_PREPARED: dict[str, PreparedPolicy] = {}
"""Policies read in this process, by fingerprint. The template prepares the default one
before it forks, so a fresh child reads no policy at all for a default-policy call."""


def prepare_policy(policy_spec: Mapping[str, Any]) -> PreparedPolicy:
    """The ``PreparedPolicy`` for a spec: ``{"fingerprint": fp}`` names one already
    prepared here (the default policy); a whole spec is read (and kept under its
    fingerprint, if it has one). Raises ``ValueError`` for a malformed spec or an unknown
    fingerprint."""
    if not isinstance(policy_spec, Mapping):
        raise ValueError("policy spec must be a mapping")
    fingerprint = policy_spec.get("fingerprint")
    if fingerprint is not None:
        prepared = _PREPARED.get(fingerprint) if type(fingerprint) is str else None
        if prepared is not None:
            return prepared
        if "modules" not in policy_spec:
            raise ValueError(f"policy spec: fingerprint {fingerprint!r} is not known to this runtime")
    prepared = PreparedPolicy(policy_spec)
    if type(fingerprint) is str:
        _PREPARED[fingerprint] = prepared
    return prepared


def make_globals(
    policy_spec: Mapping[str, Any],
    injected: Mapping[str, Any],
    *,
    module_name: str = TOOL_MODULE_NAME,
    namespace: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The globals dict for executing one compiled tool module.

    The caller passes a policy spec from the supervisor (or its fingerprint, for a policy
    prepared here) and the runtime's own objects in ``injected`` (must contain ``log``),
    and may pass the (empty) dict to fill, such as a module's ``__dict__``. Raises
    ``ValueError`` for a malformed spec, a spec that names something on the floor, or a
    bad injected name; nothing else. Each call makes a new ``__builtins__`` dict, a new
    import guard and new views, so two tools never share mutable state through their
    globals (the attribute guard they share holds none). The namespace's ``CallContext``
    is under ``context_of``.
    """
    prepared = prepare_policy(policy_spec)
    _check_injected(injected)

    namespace = {} if namespace is None else namespace
    guard = prepared.guard
    context = CallContext(guard, injected["log"])
    tool_builtins = dict(prepared.shared_builtins)
    if "print" in prepared.builtin_names:
        tool_builtins["print"] = make_print(namespace)
    tool_builtins["__import__"] = make_import(prepared.modules, context)

    names = guardnames.GUARD_NAMES
    namespace.update(
        {
            "__builtins__": tool_builtins,
            "__name__": module_name,
            names["_getattr_"]: guard.get,
            names["_getitem_"]: guarded_getitem,
            names["_getiter_"]: guarded_iter,
            names["_iter_unpack_sequence_"]: guarded_iter_unpack_sequence,
            names["_unpack_sequence_"]: guarded_unpack_sequence,
            names["_write_"]: guard.writable,
            names["_inplacevar_"]: guarded_inplacevar,
            names["_apply_"]: guarded_apply,
            _CONTEXT_KEY: context,
        }
    )
    namespace.update(injected)
    toolobjects.register_namespace(namespace)
    return namespace


_CONTEXT_KEY = "$context"  # unspellable, like the guard names


def context_of(namespace: Mapping[str, Any]) -> CallContext:
    """The ``CallContext`` of a namespace made by ``make_globals``."""
    context: CallContext = namespace[_CONTEXT_KEY]  # put there by make_globals
    return context


views.preload(policy_tables.MODULES, skip=modules.VIRTUAL)
modules.preload()
prepare_policy(DEFAULT_POLICY.frame_spec | DEFAULT_POLICY.child_spec)
