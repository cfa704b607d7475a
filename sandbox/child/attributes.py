"""The one attribute guard: ``a.b``, ``getattr``, ``setattr``, ``hasattr``, ``delattr``, ``vars``.

Runs in the confined child, beside tool code. Every spelling of an attribute access a
tool has ends here: the compiled ``a.b`` (RestrictedPython rewrites it to a guard
call), the guarded builtins (``make_builtins`` in ``guards.py``), ``str.format``
fields (``sandbox/child/formatting.py``), ``operator.attrgetter`` paths
(``sandbox/child/modules/``). Whatever one spelling
refuses, every spelling refuses, because they all call ``AttributeGuard.get``/``set``.
Names are compared as exact ``str`` values: a ``str`` subclass is copied to an exact str
first, so its ``__eq__``/``__hash__`` never take part.

Over 600 lines because it is one security decision: the guard and the descriptors and
tables it reads at each access are reviewed together, and a reader checking that no
spelling gets past it should not have to follow it across files.

What it trusts: the policy's door list and the tables in ``sandbox/policy_tables.py``,
and ``sandbox/child/toolobjects.py`` for what the tool defined. Nothing about ``obj``.

The decision, for reading ``obj.name``:

1. a door (``FORBIDDEN_ATTRIBUTES``: frames, code, globals, class-graph walks, pickling
   internals) is refused on every object; so is every attribute of a frame, code object,
   traceback, cell, coroutine or real module, and a generator's internals;
2. a public name is read, except a few that are doors only on some objects
   (``AttributeError.obj``, a property's ``fget``/``fset``/``fdel``, ``register`` on an
   ABC the tool did not define);
3. a private name (``_x``, ``_Cls__x``) is read only where the tool defined it: the first
   class along the MRO whose own namespace holds the name must be a tool class (for a
   ``super()`` proxy, the first class after its ``__thisclass__``), or, when no class
   holds it, the object must be a tool instance, class or function, and for an instance
   no base the tool did not define may keep its own state in it (``toolobjects``:
   ``class F(phonenumbers.AsYouTypeFormatter)`` holds the library's private state, so
   its unclaimed private names and its ``__dict__`` are not the tool's; names mangled
   for a tool class are). So ``self._attempts`` works and ``conv._state``,
   ``log._records`` or ``Enum._missing_`` of the standard library never do;
4. a dunder name is read only from the tables: labels (``__name__``, ``__doc__``...) on
   anything; ``__class__`` on anything but a class (a class's class is a metaclass);
   ``__dict__`` and friends on the tool's own objects; data-model methods that only
   compute (``__eq__``, ``__repr__``) on anything; those that build or change an object
   (``__init__``, ``__setattr__``, ``__new__``) only against the tool's own objects. Read
   unbound from a class the tool did not define (``object.__setattr__``,
   ``Exception.__init__``), such a method comes wrapped: its first argument must be a
   tool object (a tool class for ``__new__``), and ``__setattr__``/``__delattr__`` check
   the name they write like ``setattr`` does.

Then the value read is screened: a real module, frame or code object is refused however it
was reached; ``str.format``/``format_map`` (bound or not), and ``UserString``'s, which
call them, are replaced by the guarded formatter, since their field syntax walks
attributes outside this guard; a class's ``__annotations__`` and
``__dataclass_fields__`` come as read-only copies (dataclasses writes code from them).

Writes (``a.b = v``, ``setattr``, ``del``) go to the tool's own instances, classes and
functions, and to the few runtime objects a tool owns for the call (``conv.state``, the
call's ``decimal`` contexts); dunder names are never written, and a private name only
where the tool defined it (or where nothing defines it yet, on the tool's own object).
Item writes go to ``dict``/``list`` and the ``collections`` containers as before. Objects
registered read-only (``register_read_only``: the decimal templates tools get) refuse
both, whatever their class.

Errors are fresh ``AttributeError``/``TypeError`` instances raised outside any
``except`` block, carrying no object (CVE-2024-47532): the message says what is refused
and what to do instead.
"""

from __future__ import annotations

import abc
import decimal
import types
import typing
from collections import Counter, OrderedDict, UserString, defaultdict, deque
from typing import Any

from sandbox import policy_tables
from sandbox.child import toolobjects as tools
from sandbox.child.toolobjects import TOOL_TYPE as TOOL_TYPE  # the tools' type, imported from here too
from sandbox.child.toolobjects import ToolType as ToolType

_TYPE_DICT = type.__dict__["__dict__"]
_TYPE_NAME = type.__dict__["__name__"]
_SUPER_THISCLASS = super.__dict__["__thisclass__"]
_SUPER_SELF = super.__dict__["__self__"]
_SUPER_SELF_CLASS = super.__dict__["__self_class__"]
_BUILTIN_METHOD_NAME = types.BuiltinMethodType.__dict__["__name__"]
_BUILTIN_METHOD_SELF = types.BuiltinMethodType.__dict__["__self__"]
_METHOD_FUNC = types.MethodType.__dict__["__func__"]
_METHOD_SELF = types.MethodType.__dict__["__self__"]

_OPAQUE_KIND: dict[type, str] = {
    types.FrameType: "frame",
    types.CodeType: "code",
    types.TracebackType: "traceback",
    types.CellType: "cell",
    types.CoroutineType: "coroutine",
    types.AsyncGeneratorType: "async generator",
    types.ModuleType: "module",
}
# A generator's frame and code are its internals; driving it is fine.
_GENERATOR_PUBLIC = frozenset({"send", "throw", "close", "gi_running", "gi_suspended"})

# Containers tool code may write items into (exact types: a subclass from elsewhere may
# have its own reasons to be read-only). The collections ones are dict/list with extras.
ITEM_WRITABLE: frozenset[type] = frozenset(
    {dict, list, OrderedDict, defaultdict, Counter, deque, bytearray, type(decimal.Context().traps)}
)

# Runtime objects a tool owns for its call and may set public attributes of. The
# conversation's state class registers itself (``register_writable``).
_ATTRIBUTE_WRITABLE: set[type] = {decimal.Context}

_ABC_REGISTER = abc.ABCMeta.register
# C-level callables, and the descriptors that read their name and the object they are bound to.
_BUILTIN_CALLABLES: frozenset[type] = frozenset(
    {
        types.BuiltinMethodType,
        types.WrapperDescriptorType,
        types.MethodWrapperType,
        types.MethodDescriptorType,
        types.ClassMethodDescriptorType,
    }
)
_BUILTIN_NAME = {kind: kind.__dict__["__name__"] for kind in _BUILTIN_CALLABLES}
_BUILTIN_SELF = {kind: kind.__dict__["__self__"] for kind in (types.BuiltinMethodType, types.MethodWrapperType)}
# Objects that forward attribute reads to another object (list[int] reads from list): the
# guard decides on that object too.
_ALIAS_TYPES: tuple[type, ...] = (types.GenericAlias, typing._BaseGenericAlias)  # type: ignore[attr-defined]  # private, absent from typeshed
_ALIAS_ORIGIN = types.GenericAlias.__dict__["__origin__"]
_READ_ONLY_COPIES = frozenset({"__annotations__", "__dataclass_fields__"})
_STR_FORMATTERS = frozenset({"format", "format_map"})
_STR_FORMAT = str.format
_STR_FORMAT_MAP = str.format_map
# Library methods that call str.format on data of their own object: str method -> the function.
_FORMAT_FORWARDERS = {"format": UserString.format, "format_map": UserString.format_map}


class _ReadOnly:
    """Runtime objects of a class tools may write (a ``decimal.Context``) that are read-only
    all the same, by identity, with the message a tool gets: id -> (object, message)."""

    __slots__ = ("objects",)

    def __init__(self) -> None:
        self.objects: dict[int, tuple[Any, str]] = {}

    def refusal(self, obj: Any) -> str | None:
        entry = self.objects.get(id(obj))
        return entry[1] if entry is not None and entry[0] is obj else None


_READ_ONLY = _ReadOnly()


def register_read_only(obj: Any, message: str) -> None:
    """Refuse attribute and item writes to ``obj`` with ``message`` (the runtime keeps it
    alive: it is one of the objects module views hand out)."""
    _READ_ONLY.objects[id(obj)] = (obj, message)


def register_writable(cls: type) -> type:
    """Let tool code set public attributes and items of ``cls`` instances (runtime classes
    whose own ``__setattr__``/``__setitem__`` validate what they store)."""
    _ATTRIBUTE_WRITABLE.add(cls)
    return cls


def type_name(cls: type) -> str:
    name: str = _TYPE_NAME.__get__(cls)
    return name


def exact_name(name: Any) -> str:
    """An attribute name as an exact ``str``, never a subclass that could lie."""
    if type(name) is str:
        return name
    if isinstance(name, str):
        return str.__str__(name)
    raise TypeError(f"attribute name must be a string, not '{type_name(type(name))}'")


def _is_dunder(name: str) -> bool:
    return len(name) > 4 and name[:2] == "__" and name[-2:] == "__"


def _own_names(cls: type) -> Any:
    return _TYPE_DICT.__get__(cls)


def _first_owner(mro: tuple[type, ...], name: str) -> type | None:
    for klass in mro:
        if name in _own_names(klass):
            return klass
    return None


def _is_super(obj: Any) -> bool:
    return isinstance(obj, super)


def _super_owner(proxy: super, name: str) -> tuple[type | None, Any]:
    """(class that answers ``proxy.name``, the object the proxy is bound to)."""
    bound = _SUPER_SELF.__get__(proxy)
    start = _SUPER_THISCLASS.__get__(proxy)
    self_class = _SUPER_SELF_CLASS.__get__(proxy)
    if self_class is None:
        return None, bound
    mro = tools.mro_of(self_class)
    for index, klass in enumerate(mro):
        if klass is start:
            return _first_owner(mro[index + 1 :], name), bound
    return None, bound


def _bound_to_class(obj: Any) -> bool:
    """Reading from ``obj`` gives unbound methods: a class, or ``super(C, C)``."""
    return isinstance(obj, type) or (_is_super(obj) and isinstance(_SUPER_SELF.__get__(obj), type))


def _alias_origin(alias: Any) -> Any:
    if isinstance(alias, types.GenericAlias):
        return _ALIAS_ORIGIN.__get__(alias)
    return object.__getattribute__(alias, "__origin__")


def _tool_target(obj: Any) -> bool:
    """The object a bound data-model method would act on belongs to the tool."""
    if _is_super(obj):
        obj = _SUPER_SELF.__get__(obj)
    return tools.is_tool_object(obj) or type(obj) in ITEM_WRITABLE


class _ToolOnly:
    """An unbound data-model method of a class the tool did not define, usable only
    against the tool's own objects (``object.__setattr__(self, "x", 1)`` in a frozen
    dataclass; ``Exception.__init__(self, message)``)."""

    __slots__ = ("_guard", "_method", "_name")

    def __init__(self, method: Any, name: str, guard: AttributeGuard):
        self._method = method
        self._name = name
        self._guard = guard

    def __call__(self, target: Any, *args: Any, **kwargs: Any) -> Any:
        name = self._name
        allowed = tools.is_tool_class(target) if name == "__new__" else tools.is_tool_object(target)
        if not allowed:
            raise TypeError(f"{name}() of a class the tool did not define applies only to the tool's own objects")
        if name in ("__setattr__", "__delattr__") and args:
            refusal = self._guard.write_refusal(target, exact_name(args[0]))
            if refusal is not None:
                raise AttributeError(refusal)
        return self._method(target, *args, **kwargs)

    def __repr__(self) -> str:
        return f"<method {self._name} (tool objects only)>"


class _CheckedWrite:
    """``obj.__setattr__``/``__delattr__`` of one of the tool's objects (a C slot, bound):
    the name it writes passes the same checks as ``setattr``."""

    __slots__ = ("_guard", "_method", "_name", "_target")

    def __init__(self, method: Any, name: str, target: Any, guard: AttributeGuard):
        self._method = method
        self._name = name
        self._target = target
        self._guard = guard

    def __call__(self, name: Any, *args: Any) -> Any:
        refusal = self._guard.write_refusal(self._target, exact_name(name))
        if refusal is not None:
            raise AttributeError(refusal)
        return self._method(name, *args)

    def __repr__(self) -> str:
        return f"<method {self._name} (checked)>"


class _RegisterToolClasses:
    """``register`` of one of the tool's ABCs: only the tool's own classes may be
    registered (an ABC that claims a runtime class would make ``isinstance`` true for the
    runtime's objects, and ``match`` read their attributes through ``__match_args__``)."""

    __slots__ = ("_abc",)

    def __init__(self, owner: abc.ABCMeta):
        self._abc = owner

    def __call__(self, subclass: Any) -> Any:
        if not tools.is_tool_class(subclass):
            raise TypeError("register() takes only the tool's own classes")
        return _ABC_REGISTER(self._abc, subclass)

    def __repr__(self) -> str:
        return "<bound method register (the tool's classes only)>"


class AttributeGuard:
    """The decision for every attribute read and write of tool code. One per tool module
    namespace; ``forbidden`` is the policy's door list (the floor is always in it)."""

    __slots__ = ("forbidden", "formatter")

    def __init__(self, forbidden: frozenset[str]):
        self.forbidden = frozenset(forbidden) | frozenset(policy_tables.FORBIDDEN_ATTRIBUTES)
        self.formatter: Any = None  # set by formatting.Formatter, which needs this guard

    # -- reads ---------------------------------------------------------------------------

    def refusal(self, obj: Any, name: str) -> str | None:
        """Why reading ``obj.name`` is refused, or None. ``name`` is an exact str."""
        if name[:1] == "$":
            return f"attribute {name!r} is not available to tools (names starting with '$' are the runtime's)"
        if name in self.forbidden:
            reason = policy_tables.FORBIDDEN_ATTRIBUTES.get(name)
            return f"attribute {name!r} is not available to tools" + (f" ({reason})" if reason else "")
        cls = type(obj)
        kind = _OPAQUE_KIND.get(cls)
        if kind is None and isinstance(obj, types.ModuleType):
            kind = "module"
        if kind is not None:
            return f"attributes of {kind} objects are not available to tools"
        if (
            cls is types.GeneratorType
            and name not in _GENERATOR_PUBLIC
            and name not in policy_tables.DUNDER_PURE_METHODS
        ):
            return f"attribute {name!r} of a generator is not available to tools"
        if cls is super and not tools.is_tool_class(_SUPER_THISCLASS.__get__(obj)):
            return (
                f"super({type_name(_SUPER_THISCLASS.__get__(obj))}, ...) is not available to tools: "
                "super() works within the tool's own classes"
            )
        if isinstance(obj, _ALIAS_TYPES) and name[:1] != "_":
            return self.refusal(_alias_origin(obj), name)  # the alias reads it from its origin
        if name[:1] != "_":
            return self._public_refusal(obj, name)
        if _is_dunder(name):
            return self._dunder_refusal(obj, name)
        return self._private_refusal(obj, name)

    def _public_refusal(self, obj: Any, name: str) -> str | None:
        if name == "obj" and isinstance(obj, AttributeError):
            return "AttributeError.obj is not available to tools (it holds the object whose lookup failed)"
        if name in ("fget", "fset", "fdel") and isinstance(obj, property):
            return f"property.{name} is not available to tools; use the attribute itself"
        if name == "register" and isinstance(obj, abc.ABCMeta) and not tools.is_tool_class(obj):
            return "register() is available only on the tool's own ABCs"
        return None

    def _dunder_refusal(self, obj: Any, name: str) -> str | None:
        if name in policy_tables.DUNDER_READABLE or name in policy_tables.DUNDER_PURE_METHODS:
            return None
        if name == "__class__":
            if isinstance(obj, type):
                return "a class's __class__ is its metaclass, which is not available to tools"
            return None
        if name == "__wrapped__":
            return None  # decided by what it leads to (see _screen): the tool's own function
        if name in policy_tables.DUNDER_TOOL_ONLY:
            if name == "__dict__" and isinstance(obj, type):
                return "a class's __dict__ is not available to tools; read its attributes, or vars() of an instance"
            if name == "__dict__" and tools.is_tool_instance(obj):
                keeper = tools.instance_state_owner(type(obj))
                if keeper is not None:
                    return (
                        f"the __dict__ of {type_name(type(obj))!r} objects is not available to tools: "
                        f"{type_name(keeper)!r}, a base class the tool did not define, keeps its own state "
                        "there; read your attributes by name"
                    )
            if tools.is_tool_object(obj):
                return None
            return f"attribute {name!r} is available only on the tool's own classes, instances and functions"
        if name in policy_tables.DUNDER_MUTATING_METHODS:
            if name == "__init_subclass__" and not _tool_target(obj):
                return "__init_subclass__ applies only to the tool's own classes"  # bound to the class: no wrapper
            if isinstance(obj, type) or _tool_target(obj):
                return None  # unbound reads come wrapped (see get)
            return (
                f"{name} of {type_name(type(obj))!r} objects is not available to tools: "
                "it applies only to the tool's own objects"
            )
        return f"attribute {name!r} is not available to tools"

    def _private_refusal(self, obj: Any, name: str) -> str | None:
        if _is_super(obj):
            owner, bound = _super_owner(obj, name)
            if owner is None:
                if tools.is_tool_instance(bound):
                    return _instance_state_refusal(bound, name)
                allowed = tools.is_tool_object(bound)
            else:
                allowed = tools.is_tool_class(owner)
        elif isinstance(obj, type):
            owner = _first_owner(tools.mro_of(obj), name)
            if owner is None:
                # Names the metaclass answers (EnumType's own helpers) are the runtime's.
                allowed = tools.is_tool_class(obj) and _first_owner(tools.mro_of(type(obj)), name) is None
            else:
                allowed = tools.is_tool_class(owner)
        else:
            owner = _first_owner(tools.mro_of(type(obj)), name)
            if owner is None:
                if tools.is_tool_instance(obj):
                    return _instance_state_refusal(obj, name)
                allowed = tools.is_tool_function(obj)
            else:
                allowed = tools.is_tool_class(owner)
        if allowed:
            return None
        return (
            f"attribute {name!r} is not available to tools: names starting with '_' are "
            f"readable only on the tool's own classes and objects, not on {type_name(type(obj))!r} objects"
        )

    def get(self, obj: Any, name: Any) -> Any:
        """``obj.name`` for tool code, or ``AttributeError`` saying why not."""
        name = exact_name(name)
        refusal = self.refusal(obj, name)
        if refusal is None:
            try:
                value = getattr(obj, name)
            except AttributeError as exc:
                refusal = _plain_message(exc, obj, name)
            else:
                return self._screen(obj, name, value)
        # Raised outside the except block and made fresh, so the error the tool catches has
        # no __context__, no .obj and no .name pointing at the object (CVE-2024-47532).
        raise AttributeError(refusal)

    def _screen(self, obj: Any, name: str, value: Any) -> Any:
        """The value read, unless it is a door however it was reached (by whatever name:
        ``Color._new_member_`` is ``object.__new__``, which EnumType stored there)."""
        vtype = type(value)
        if name == "__wrapped__" and not tools.is_tool_object(value) and not tools.is_tool_object(obj):
            raise AttributeError("attribute '__wrapped__' is available only where it leads to the tool's own function")
        if vtype in _BUILTIN_CALLABLES:
            return self._screen_builtin(obj, name, value, vtype)
        if vtype is types.MethodType or vtype is types.FunctionType:
            forwarded = self._screen_forwarder(value, vtype)
            if forwarded is not None:
                return forwarded
        if vtype is types.MethodType:
            if _METHOD_FUNC.__get__(value) is _ABC_REGISTER:
                owner = _METHOD_SELF.__get__(value)
                if not tools.is_tool_class(owner):
                    raise AttributeError("register() is available only on the tool's own ABCs")
                return _RegisterToolClasses(owner)
            if (
                name in policy_tables.DUNDER_MUTATING_METHODS
                and _bound_to_class(obj)
                and not tools.is_tool_object(_METHOD_SELF.__get__(value))
            ):
                return _ToolOnly(value, name, self)
            return value
        if name in policy_tables.DUNDER_MUTATING_METHODS and not tools.is_tool_function(value) and _bound_to_class(obj):
            return _ToolOnly(value, name, self)
        kind = _OPAQUE_KIND.get(vtype)
        if kind is not None or isinstance(value, types.ModuleType):
            raise AttributeError(f"{name!r} leads to a {kind or 'module'} object, which is not available to tools")
        if isinstance(value, type) and issubclass(value, type):
            raise AttributeError(f"{name!r} is a metaclass, which is not available to tools")
        if name in _READ_ONLY_COPIES and type(value) is dict:
            # read-only: dataclasses builds code from these (a base's fields are a subclass's)
            return types.MappingProxyType(dict(value))
        return value

    def _screen_forwarder(self, value: Any, vtype: type) -> Any:
        """``UserString.format``/``format_map`` (bound or not, by any name they were read
        under) as the guarded formatter's ``through_data``; None for anything else."""
        if vtype is types.MethodType:
            func = _METHOD_FUNC.__get__(value)
            for method, forwarder in _FORMAT_FORWARDERS.items():
                if func is forwarder:
                    return self.formatter.through_data(method, _METHOD_SELF.__get__(value))
        elif vtype is types.FunctionType:
            for method, forwarder in _FORMAT_FORWARDERS.items():
                if value is forwarder:
                    return self.formatter.through_data(method)
        return None

    def _screen_builtin(self, obj: Any, name: str, value: Any, vtype: type) -> Any:
        """A method or function implemented in C: ``str.format`` is replaced by the guarded
        formatter; a data-model method that builds or changes an object (``object.__new__``,
        ``object.__setattr__``), unbound or bound to a class, applies only to the tool's own
        objects, and bound to an object its writes pass the write guard's name checks."""
        real_name = _BUILTIN_NAME[vtype].__get__(value)
        if real_name in _STR_FORMATTERS:
            if vtype is types.MethodDescriptorType and (value is _STR_FORMAT or value is _STR_FORMAT_MAP):
                return self.formatter.unbound(real_name)
            if vtype is types.BuiltinMethodType and isinstance(_BUILTIN_METHOD_SELF.__get__(value), str):
                return self.formatter.bound(_BUILTIN_METHOD_SELF.__get__(value), real_name)
            return value
        if real_name not in policy_tables.DUNDER_MUTATING_METHODS:
            return value
        bound = _BUILTIN_SELF[vtype].__get__(value) if vtype in _BUILTIN_SELF else None
        if (
            bound is None
            or type(bound) is types.ModuleType
            or (isinstance(bound, type) and not tools.is_tool_class(bound))
        ):
            return _ToolOnly(value, real_name, self)  # unbound, or object.__new__ & co.
        if not (tools.is_tool_object(bound) or type(bound) in ITEM_WRITABLE or type(bound) in _ATTRIBUTE_WRITABLE):
            raise AttributeError(
                f"{real_name} of {type_name(type(bound))!r} objects is not available to tools: "
                "it applies only to the tool's own objects"
            )
        if real_name in ("__setattr__", "__delattr__"):
            return _CheckedWrite(value, real_name, bound, self)
        return value

    def has(self, obj: Any, name: Any) -> bool:
        try:
            self.get(obj, name)
        except AttributeError:
            return False
        return True

    # -- writes --------------------------------------------------------------------------

    def write_refusal(self, obj: Any, name: str) -> str | None:
        """Why ``obj.name = value`` (or ``del obj.name``) is refused, or None."""
        if name in self.forbidden or _is_dunder(name) or name[:1] == "$":
            return f"setting {name!r} is not allowed in tools"
        cls = type(obj)
        if isinstance(obj, type):
            own = tools.is_tool_class(obj)
            mro = tools.mro_of(obj)
        else:
            own = tools.is_tool_instance(obj) or tools.is_tool_function(obj)
            mro = tools.mro_of(cls)
        if not own and cls not in _ATTRIBUTE_WRITABLE:
            return f"cannot assign to or delete from {type_name(cls)!r} objects: they are read-only to tools"
        read_only = _READ_ONLY.refusal(obj)
        if read_only is not None:
            return read_only
        if name[:1] == "_":
            owner = _first_owner(mro, name)
            if not own or (owner is not None and not tools.is_tool_class(owner)):
                return (
                    f"cannot set {name!r} on {type_name(cls)!r} objects: names starting with '_' "
                    "belong to the class that defined them"
                )
            if owner is None and not isinstance(obj, type) and tools.is_tool_instance(obj):
                return _instance_state_refusal(obj, name)
        return None

    def set(self, obj: Any, name: Any, value: Any) -> None:
        name = exact_name(name)
        refusal = self.write_refusal(obj, name)
        if refusal is not None:
            raise AttributeError(refusal)
        setattr(obj, name, value)

    def delete(self, obj: Any, name: Any) -> None:
        name = exact_name(name)
        refusal = self.write_refusal(obj, name)
        if refusal is not None:
            raise AttributeError(refusal)
        delattr(obj, name)

    def writable(self, obj: Any) -> Any:
        """The ``_write_`` guard: what ``obj.x = v``, ``obj[k] = v`` and ``del`` act on."""
        cls = type(obj)
        if cls is dict or cls is list:
            return obj
        if cls in ITEM_WRITABLE or cls in _ATTRIBUTE_WRITABLE or tools.is_tool_object(obj):
            read_only = _READ_ONLY.refusal(obj)
            if read_only is not None:
                raise TypeError(read_only)
            return _Writer(obj, self)
        raise TypeError(f"cannot assign to or delete from {type_name(cls)!r} objects: they are read-only to tools")


def _instance_state_refusal(obj: Any, name: str) -> str | None:
    """A private name in a tool instance's own ``__dict__`` that no class defines: the
    tool's, unless a base the tool did not define may keep its own state there."""
    cls = type(obj)
    owner = tools.instance_state_owner(cls)
    if owner is None or tools.is_mangled_for(cls, name):
        return None
    return (
        f"attribute {name!r} of {type_name(cls)!r} objects is not available to tools: {type_name(owner)!r}, "
        "a base class the tool did not define, keeps its own state in these objects under names starting "
        "with '_'; name your own attributes without a leading '_', or with two (self.__name)"
    )


def _plain_message(exc: AttributeError, obj: Any, name: str) -> str:
    try:
        text = str(exc)
    except Exception:  # noqa: BLE001 - a tool's exception text may raise anything
        text = ""
    return text if type(text) is str and text else f"{type_name(type(obj))!r} object has no attribute {name!r}"


class _Writer:
    """What ``_write_(obj)`` returns for objects other than dict and list: attribute writes
    go through the guard's name checks; item writes reach containers the guard allowed.
    Tool code never holds one: it exists for the length of one assignment."""

    __slots__ = ("_guard", "_target")

    def __init__(self, target: Any, guard: AttributeGuard):
        self._target: Any  # for the checker; in the class body it would add an __annotations__
        self._guard: AttributeGuard
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "_guard", guard)

    def __setattr__(self, name: str, value: Any) -> None:
        self._guard.set(self._target, name, value)

    def __delattr__(self, name: str) -> None:
        self._guard.delete(self._target, name)

    def __setitem__(self, key: Any, value: Any) -> None:
        self._target[key] = value

    def __delitem__(self, key: Any) -> None:
        del self._target[key]
