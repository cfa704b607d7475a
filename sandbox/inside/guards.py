"""The globals tool code runs with: RestrictedPython's guards, the tool's builtins, imports.

Runs in the confined child, beside tool code. ``sandbox/compiler.py`` (supervisor side)
compiled the tool with RestrictedPython, which rewrote every sensitive operation into a
call of a guard named in the globals; this module supplies those guards. It trusts the
policy spec (plain data from the supervisor) and the ``injected`` objects (the runtime's
own). It trusts nothing a tool passes to a guard. The compile-time checks come first; the
guards here assume they were broken one day, and repeat every check that can be repeated.

Globals made by ``make_globals(policy_spec, injected)``::

    __builtins__            only the policy's builtins (print routed to the log) and the
                            guarded __import__
    __name__                "tool" (so tool classes get __module__ == "tool")
    __metaclass__           the class guard (only when the policy allows classes)
    _getattr_               obj.name           refuses names starting with "_", the forbidden
                                               names, every attribute of frames, code,
                                               tracebacks, cells, coroutines and real modules,
                                               and generators' internals; its errors carry no
                                               objects (CVE-2024-47532)
    _getitem_               obj[key]           plain
    _getiter_               for/comprehension  plain iter()
    _iter_unpack_sequence_  for a, b in ...    unpacks through _getiter_; no generator frame
    _unpack_sequence_       a, b = ...         unpacks through _getiter_
    _write_                 obj.x = / obj[k] = / del ...   dict, list, the collections
                                               containers, and classes marked
                                               ``_toolpool_writable = True``; else TypeError
    _inplacevar_            n += 1             the operator on plain names
    _apply_                 f(*a, **kw)        plain call
    _print_                 print(...)         each print() is one log.info record; `printed`
                                               returns this function's printed text
    + everything in ``injected`` (``log``, ``Conversation``...)

``policy_spec`` is ``{"modules": {name: [names]}, "builtins": [names], "forbidden": [names]}``.
``injected`` must contain ``log`` (an object with ``info(message)``): ``print`` writes there,
looking ``log`` up in the namespace at each call, so a runtime that reuses a namespace and
swaps ``namespace["log"]`` gets prints in the new log. Injected names may not start with
``_``, which would shadow a guard.

The floor: whatever the spec says, the builtins and modules in
``sandbox.policy_tables.REFUSED_BUILTINS``/``REFUSED_MODULES`` are refused (``ValueError``
from ``make_globals``), and the attribute names in ``ALWAYS_FORBIDDEN`` are always refused.

Importing this module imports every module of the default policy (``views.preload``): the
template imports the runtime before it confines its children, and a confined child has no
filesystem to import from.
"""

from __future__ import annotations

import builtins as _real_builtins
import operator
import types
from collections import Counter, OrderedDict, defaultdict, deque
from typing import Any, Callable, Iterator, Mapping

from sandbox import policy_tables
from sandbox.inside import views

TOOL_MODULE_NAME = "tool"

ALWAYS_FORBIDDEN: frozenset[str] = frozenset(
    {
        # format field syntax walks attributes (CVE-2023-41039)
        "format", "format_map", "vformat",
        # interpreter state (CVE-2023-37271)
        "gi_frame", "gi_code", "gi_yieldfrom", "cr_frame", "cr_code", "cr_await", "cr_origin",
        "ag_frame", "ag_code", "ag_await", "f_back", "f_builtins", "f_globals", "f_locals",
        "f_code", "f_trace", "f_generator", "tb_frame", "tb_next", "co_code", "co_consts", "cell_contents",
        # AttributeError.obj (CVE-2024-47532)
        "obj",
        # towards object.__subclasses__
        "mro",
        # a property's functions, called directly, skip the write guard or run trusted
        # code against a tool-chosen object
        "fget", "fset", "fdel",
    }
)
"""Attribute names refused whatever the policy spec says; a spec can add names, not remove these."""

# Objects whose every attribute is refused: each is a piece of the interpreter's own state.
# Real modules appear only through a bug (tools get views), so they are refused outright.
_OPAQUE_TYPES: tuple[type, ...] = (
    types.ModuleType,
    types.FrameType,
    types.CodeType,
    types.TracebackType,
    types.CellType,
    types.CoroutineType,
    types.AsyncGeneratorType,
)
_OPAQUE_KIND = {
    types.ModuleType: "module",
    types.FrameType: "frame",
    types.CodeType: "code",
    types.TracebackType: "traceback",
    types.CellType: "cell",
    types.CoroutineType: "coroutine",
    types.AsyncGeneratorType: "async generator",
}
# A generator's frame and code are its internals; driving it is fine.
_GENERATOR_ATTRIBUTES = frozenset({"send", "throw", "close"})

# Containers tool code may assign into (exact types: a subclass from elsewhere may have
# its own reasons to be read-only). The collections ones are dict/list with extras.
_WRITABLE_TYPES: frozenset[type] = frozenset({dict, list, OrderedDict, defaultdict, Counter, deque})
_WRITABLE_FLAG = "_toolpool_writable"

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
    modules: dict[str, frozenset[str]] = {}
    for name, names in raw_modules.items():
        if type(name) is not str or not name:
            raise ValueError("policy spec: module names must be non-empty str")
        top = name.split(".")[0]
        if name in policy_tables.REFUSED_MODULES or top in policy_tables.REFUSED_MODULES:
            raise ValueError(f"policy spec: module {name!r} can never be allowed: "
                             f"{policy_tables.REFUSED_MODULES.get(name) or policy_tables.REFUSED_MODULES[top]}")
        modules[name] = frozenset(_str_list(names, f"modules[{name!r}]"))
    builtin_names = _str_list(policy_spec.get("builtins", []), "builtins")
    for name in builtin_names:
        if name in policy_tables.REFUSED_BUILTINS:
            raise ValueError(f"policy spec: builtin {name!r} can never be allowed: "
                             f"{policy_tables.REFUSED_BUILTINS[name]}")
        if name != "print" and not hasattr(_real_builtins, name):
            raise ValueError(f"policy spec: {name!r} is not a Python builtin")
    forbidden = frozenset(_str_list(policy_spec.get("forbidden", []), "forbidden")) | ALWAYS_FORBIDDEN
    return modules, builtin_names, forbidden


def _check_injected(injected: Mapping[str, Any]) -> None:
    if not isinstance(injected, Mapping):
        raise ValueError("injected must be a mapping of global name to object")
    for name in injected:
        if type(name) is not str or not name.isidentifier() or name.startswith("_"):
            raise ValueError(f"injected global {name!r} must be an identifier not starting with '_'")
    if "log" not in injected:
        raise ValueError("injected must contain 'log' (print() writes to log.info)")


# ---------------------------------------------------------------------------------------
# Attribute reads
# ---------------------------------------------------------------------------------------


def _type_name(obj: Any) -> str:
    return type.__dict__["__name__"].__get__(type(obj))


def _refusal(obj: Any, name: str, forbidden: frozenset[str]) -> str | None:
    """Why ``obj.name`` is refused, or None if it may be looked up."""
    if name.startswith("_"):
        return f"attribute {name!r} is not allowed: names starting with '_' are reserved"
    if name in forbidden:
        reason = policy_tables.FORBIDDEN_ATTRIBUTES.get(name)
        return f"attribute {name!r} is not allowed" + (f" ({reason})" if reason else "")
    cls = type(obj)
    for opaque in _OPAQUE_TYPES:
        if issubclass(cls, opaque):
            return f"attributes of {_OPAQUE_KIND[opaque]} objects are not available to tools"
    if issubclass(cls, types.GeneratorType) and name not in _GENERATOR_ATTRIBUTES:
        return f"attribute {name!r} of a generator is not available to tools"
    return None


def make_getattr(forbidden: frozenset[str]) -> Callable[[Any, str], Any]:
    """The ``_getattr_`` guard refusing ``forbidden`` names (plus the floor) and opaque objects."""
    forbidden = frozenset(forbidden) | ALWAYS_FORBIDDEN

    def guarded_getattr(obj: Any, name: str) -> Any:
        if type(name) is not str:
            raise TypeError("attribute name must be a str")
        refusal = _refusal(obj, name, forbidden)
        if refusal is None:
            try:
                return getattr(obj, name)
            except AttributeError as exc:
                refusal = str(exc) or f"{_type_name(obj)!r} object has no attribute {name!r}"
        # Raised outside the except block and made fresh, so the error the tool catches has
        # no __context__, no .obj and no .name pointing at the object (CVE-2024-47532).
        raise AttributeError(refusal)

    return guarded_getattr


# ---------------------------------------------------------------------------------------
# Items, iteration, unpacking, calls, in-place operators
# ---------------------------------------------------------------------------------------


def guarded_getitem(obj: Any, key: Any) -> Any:
    return obj[key]


def guarded_iter(obj: Any) -> Iterator[Any]:
    return iter(obj)


def guarded_unpack_sequence(it: Any, spec: Mapping[str, Any], _getiter_: Any = None) -> list[Any]:
    """``a, (b, c) = it``: materialise each level through ``iter``. ``spec`` is a compile-time
    constant made by RestrictedPython; the ``_getiter_`` argument is ignored in favour of ours."""
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


def guarded_iter_unpack_sequence(it: Any, spec: Mapping[str, Any], _getiter_: Any = None) -> _UnpackingIterator:
    return _UnpackingIterator(it, spec)


def guarded_apply(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return func(*args, **kwargs)


def guarded_inplacevar(op: str, target: Any, value: Any) -> Any:
    function = _INPLACE_OPERATORS.get(op)
    if function is None:
        raise TypeError(f"in-place operator {op!r} is not supported")
    return function(target, value)


# ---------------------------------------------------------------------------------------
# Writes
# ---------------------------------------------------------------------------------------


def _writable_class(cls: type) -> bool:
    # Read the flag from the classes' own dicts along the MRO: no metaclass or
    # __getattr__ can answer for them.
    for klass in type.__dict__["__mro__"].__get__(cls):
        flag = type.__dict__["__dict__"].__get__(klass).get(_WRITABLE_FLAG)
        if flag is not None:
            return flag is True
    return False


def guarded_write(obj: Any) -> Any:
    """The ``_write_`` guard: returns ``obj`` if tool code may assign into it, else raises."""
    cls = type(obj)
    if cls in _WRITABLE_TYPES or _writable_class(cls):
        return obj
    raise TypeError(f"cannot assign to or delete from {_type_name(obj)!r} objects: they are read-only to tools")


# ---------------------------------------------------------------------------------------
# Classes
# ---------------------------------------------------------------------------------------


def build_tool_class(name: str, bases: tuple[Any, ...], namespace: dict[str, Any], **keywords: Any) -> type:
    """The ``__metaclass__`` every tool ``class`` statement is compiled to use.

    Refuses class keywords, metaclass tricks (a base that is itself a metaclass, or whose
    metaclass is not ``type``), then builds a plain class and marks it writable, so the
    tool's own instances accept ``self.x = ...``. The mark is an underscore name, which tool
    code can neither set nor clear.
    """
    if keywords:
        raise TypeError(f"class {name}: class keyword arguments are not allowed")
    for base in bases:
        if not isinstance(base, type):
            raise TypeError(f"class {name}: base {base!r} is not a class")
        if type(base) is not type or issubclass(base, type):
            raise TypeError(f"class {name}: base {_type_name_of_class(base)!r} has a custom metaclass")
    cls = type(name, bases, dict(namespace))
    type.__setattr__(cls, _WRITABLE_FLAG, True)
    return cls


def _type_name_of_class(cls: type) -> str:
    return type.__dict__["__name__"].__get__(cls)


# ---------------------------------------------------------------------------------------
# print
# ---------------------------------------------------------------------------------------


def make_print(namespace: Mapping[str, Any], getattr_guard: Callable[[Any, str], Any]) -> type:
    """The ``_print_`` class RestrictedPython instantiates in each function that prints.

    RestrictedPython compiles ``print(...)`` to ``_print._call_print(...)`` and ``printed``
    to ``_print()``. Each call becomes one ``log.info`` record (the trailing newline
    dropped); ``file=`` is refused, since print only goes to the log.
    """

    class ToolPrint:
        __slots__ = ("_text",)

        def __init__(self, _getattr_: Any = None):
            self._text: list[str] = []

        def _call_print(self, *objects: Any, sep: Any = " ", end: Any = "\n", file: Any = None, flush: Any = False) -> None:
            if file is not None:
                raise TypeError("print(file=...) is not supported: print writes to the tool's log")
            sep = " " if sep is None else sep
            end = "\n" if end is None else end
            if type(sep) is not str or type(end) is not str:
                raise TypeError("print(): sep and end must be str")
            text = sep.join(str(item) for item in objects) + end
            self._text.append(text)
            log = namespace.get("log")
            if log is None:
                raise RuntimeError("print() writes to the tool's log, but no 'log' is defined")
            getattr_guard(log, "info")(text[:-1] if text.endswith("\n") else text)

        def __call__(self) -> str:
            return "".join(self._text)

    return ToolPrint


# ---------------------------------------------------------------------------------------
# Imports
# ---------------------------------------------------------------------------------------


def make_import(modules: Mapping[str, frozenset[str]]) -> Callable[..., Any]:
    """The guarded ``__import__``: only policy modules, returned as read-only views.

    ``import a.b`` returns a view of package ``a`` holding only ``b``; ``from a.b import x``
    checks each name against the policy before returning the view of ``a.b``; relative
    imports are refused. Views are built on first import and reused for this namespace.
    """
    cache: dict[str, views.ModuleView] = {}
    allowed = ", ".join(sorted(m for m in modules if m != "__future__"))

    def view_of(name: str) -> views.ModuleView:
        view = cache.get(name)
        if view is None:
            # Allowed submodules appear as views inside their parent's view, so that
            # `import urllib.parse` binds a `urllib` view holding a `parse` view.
            prefix = name + "."
            child_names = sorted({m[len(prefix):].split(".")[0] for m in modules if m.startswith(prefix)})
            children = {child: view_of(prefix + child) for child in child_names}
            if name in modules:
                view = views.build_view(name, modules[name], children)
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
        return name in modules or any(m.startswith(name + ".") for m in modules)

    def guarded_import(name: Any, globals: Any = None, locals: Any = None, fromlist: Any = (), level: Any = 0) -> views.ModuleView:
        if type(name) is str and name in policy_tables.RUNTIME_IMPORTS and level == 0:
            return runtime_view(name)
        if level != 0:
            raise ImportError("relative imports are not allowed in tools")
        if type(name) is not str or not known(name):
            shown = name if type(name) is str else type(name).__name__
            raise ImportError(f"import of {shown!r} is not allowed (tools may import: {allowed})")
        if fromlist:
            listed = modules.get(name, frozenset())
            for item in fromlist:
                if type(item) is not str:
                    raise ImportError(f"cannot import a non-str name from {name!r}")
                if item not in listed and f"{name}.{item}" not in modules and not known(f"{name}.{item}"):
                    raise ImportError(f"cannot import name {item!r} from {name!r} (not available to tools)")
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


def _builtin(name: str, routed_print: Callable[..., None]) -> Any:
    if name == "print":
        return routed_print
    return getattr(_real_builtins, name)


def make_globals(policy_spec: Mapping[str, Any], injected: Mapping[str, Any]) -> dict[str, Any]:
    """A fresh globals dict for executing one compiled tool module.

    The caller passes a policy spec from the supervisor and the runtime's own objects in
    ``injected`` (must contain ``log``). Raises ``ValueError`` for a malformed spec, a spec
    that names something on the floor, or a bad injected name; nothing else. Each call
    makes new guards and a new ``__builtins__`` dict, so two tools never share mutable state
    through their globals.
    """
    modules, builtin_names, forbidden = _read_spec(policy_spec)
    _check_injected(injected)

    namespace: dict[str, Any] = {}
    getattr_guard = make_getattr(forbidden)
    tool_print = make_print(namespace, getattr_guard)

    def routed_print(*objects: Any, **kwargs: Any) -> None:
        tool_print()._call_print(*objects, **kwargs)

    tool_builtins = {name: _builtin(name, routed_print) for name in builtin_names}
    tool_builtins["__import__"] = make_import(modules)

    namespace.update(
        {
            "__builtins__": tool_builtins,
            "__name__": TOOL_MODULE_NAME,
            "_getattr_": getattr_guard,
            "_getitem_": guarded_getitem,
            "_getiter_": guarded_iter,
            "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
            "_unpack_sequence_": guarded_unpack_sequence,
            "_write_": guarded_write,
            "_inplacevar_": guarded_inplacevar,
            "_apply_": guarded_apply,
            "_print_": tool_print,
        }
    )
    if "__build_class__" in tool_builtins:
        namespace["__metaclass__"] = build_tool_class
    namespace.update(injected)
    return namespace


GUARD_NAMES: tuple[str, ...] = (
    "_getattr_",
    "_getitem_",
    "_getiter_",
    "_iter_unpack_sequence_",
    "_unpack_sequence_",
    "_write_",
    "_inplacevar_",
    "_apply_",
    "_print_",
)
"""Every guard name RestrictedPython's transformer emits (``__metaclass__`` aside)."""

views.preload(policy_tables.MODULES)
