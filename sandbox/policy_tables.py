"""The default policy tables: what a tool may import, call and look up. DATA ONLY.

Read by ``sandbox/policy.py`` (supervisor), which freezes them into ``DEFAULT_POLICY``,
by ``sandbox/compile/compiler.py`` for the compile-time checks, and by the child's guards
(``sandbox/child/attributes.py``, ``guards.py``, ``toolobjects.py``), which enforce the
``REFUSED_*`` and attribute tables as a floor that no policy can lower. Every entry
carries its reason, and every refusal tells the customer what to do instead. Deny by
default: a module, module member, builtin, dunder name or syntax form that is not named
here is refused.

Where the boundary is. The isolation boundary is the confined process (namespaces,
seccomp, an unprivileged uid, rlimits), and every layer below the compiler holds on its
own. These tables close the doors that lead from a tool's own objects into the runtime
(frames, code, globals, class-graph walks, the import machinery, real modules) and
otherwise let ordinary Python through: private names, classes with data-model methods,
``super()``, ``str.format``, ``logging``, ``typing``.

How the tables are enforced (so a reviewer knows which layer answers for each):

``MODULES``
    The compiler refuses ``import``/``from`` of anything else at compile time. In the
    child the guarded ``__import__`` returns a read-only *view*
    (``sandbox/child/views.py``) holding only the listed names, never the real module,
    so ``datetime.sys`` or ``json.codecs`` are simply absent. Some listed names are
    served by guarded stand-ins (``sandbox/child/modules/``): ``operator.attrgetter``
    resolves each step through the attribute guard, ``functools.wraps`` refuses custom
    ``assigned``, ``logging`` is toolpool's own module writing into the call's logs,
    ``zoneinfo`` serves the tzdata database the template loaded.
``BUILTINS``
    The only names in the tool's ``__builtins__``. The compiler refuses a use of any
    other Python builtin that the file does not define itself. ``getattr``, ``setattr``,
    ``hasattr``, ``delattr``, ``vars`` and ``type`` are guarded versions (the same guard
    as ``a.b``); ``__import__`` and ``__build_class__`` are always the child's guards.
``FORBIDDEN_ATTRIBUTES``
    The doors: attribute names refused on every object, at compile time for ``a.name``
    syntax and at run time for every other spelling (``getattr``, format fields, dotted
    paths). Other names are decided per object at run time (``attributes.py``): private
    names only on what the tool defined, dunder names from ``DUNDER_*`` below.
``REFUSED_MODULES`` / ``REFUSED_BUILTINS``
    Never allowed, whatever a ``Policy`` says: the compiler raises ``InvalidInput`` for a
    policy that lists one, and the child refuses to build globals from such a spec.

``MODULES`` and ``LEFT_OUT`` live in ``sandbox/policy_modules.py`` (re-exported here):
what a view leaves out on purpose, why, and what to use instead (README "Modules tools
may import" repeats it for customers).
"""

from __future__ import annotations

from sandbox.policy_modules import LEFT_OUT as LEFT_OUT  # the module tables, re-exported
from sandbox.policy_modules import MODULES as MODULES

# ---------------------------------------------------------------------------------------
# Builtins: name -> reason. The tool's __builtins__ holds these and nothing else (plus the
# guarded __import__, always installed by the child; __build_class__ is the class guard).
# ---------------------------------------------------------------------------------------

_EXCEPTIONS = (
    "ArithmeticError",
    "AssertionError",
    "AttributeError",
    "BlockingIOError",
    "BrokenPipeError",
    "BufferError",
    "ChildProcessError",
    "ConnectionAbortedError",
    "ConnectionError",
    "ConnectionRefusedError",
    "ConnectionResetError",
    "EOFError",
    "Exception",
    "FileExistsError",
    "FileNotFoundError",
    "FloatingPointError",
    "GeneratorExit",
    "ImportError",
    "IndexError",
    "InterruptedError",
    "IsADirectoryError",
    "KeyError",
    "LookupError",
    "ModuleNotFoundError",
    "NameError",
    "NotADirectoryError",
    "NotImplementedError",
    "OSError",
    "OverflowError",
    "PermissionError",
    "ProcessLookupError",
    "RecursionError",
    "ReferenceError",
    "RuntimeError",
    "StopAsyncIteration",
    "StopIteration",
    "SyntaxError",
    "TimeoutError",
    "TypeError",
    "UnboundLocalError",
    "UnicodeDecodeError",
    "UnicodeEncodeError",
    "UnicodeError",
    "UnicodeTranslateError",
    "ValueError",
    "ZeroDivisionError",
    "Warning",
    "UserWarning",
    "DeprecationWarning",
    "RuntimeWarning",
)

BUILTINS: dict[str, str] = {
    # --- the class statement -----------------------------------------------------------
    "__build_class__": "runs a `class` statement through the class guard; tool code cannot "
    "name it. Remove it to refuse classes at compile time",
    # --- constants and types -------------------------------------------------------------
    "NotImplemented": "return value for comparison methods of tool classes",
    "Ellipsis": "the ... constant",
    "bool": "type and conversion",
    "bytearray": "type and conversion",
    "bytes": "type and conversion; needed around base64/hashlib/hmac",
    "complex": "numeric type",
    "dict": "type and conversion",
    "float": "type and conversion",
    "frozenset": "type and conversion",
    "int": "type and conversion (CPython caps int<->str at 4300 digits)",
    "list": "type and conversion",
    "object": "base class; its unbound data-model methods apply only to the tool's own objects",
    "property": "computed attributes on tool classes (fget/fset/fdel are refused on properties)",
    "classmethod": "alternate constructors on tool classes",
    "staticmethod": "helpers grouped on tool classes",
    "super": "super() in methods; the attribute guard lets its data-model methods reach only the tool's own objects",
    "range": "type; large ranges are lazy",
    "set": "type and conversion",
    "slice": "type; item access with slices",
    "str": "type and conversion; str.format goes through the guarded formatter",
    "tuple": "type and conversion",
    "type": "type(x) only (the guarded one): x's class; a class statement builds classes",
    # --- functions -----------------------------------------------------------------------
    "abs": "arithmetic",
    "all": "iteration helper",
    "any": "iteration helper",
    "ascii": "text conversion",
    "bin": "text conversion",
    "callable": "introspection that reveals nothing but a bool",
    "chr": "text conversion",
    "delattr": "the guarded one: the same checks as `del a.b`",
    "divmod": "arithmetic",
    "enumerate": "iteration helper",
    "filter": "iteration helper",
    "format": "format(value, spec): one value through its __format__; no field syntax",
    "getattr": "the guarded one: the same checks as a.b",
    "hasattr": "the guarded one: the same checks as a.b",
    "hash": "hash of a value",
    "hex": "text conversion",
    "isinstance": "type test",
    "issubclass": "type test",
    "iter": "iteration helper",
    "len": "size",
    "map": "iteration helper",
    "max": "iteration helper",
    "min": "iteration helper",
    "next": "iteration helper",
    "oct": "text conversion",
    "ord": "text conversion",
    "pow": "arithmetic; huge results are bounded by the CPU and memory limits",
    "print": "routed to log.info",
    "repr": "text conversion",
    "reversed": "iteration helper",
    "round": "arithmetic",
    "setattr": "the guarded one: the same checks as a.b = v",
    "sorted": "iteration helper",
    "sum": "iteration helper",
    "vars": "vars(obj), the guarded one: only the tool's own instances have a readable __dict__",
    "zip": "iteration helper",
    # --- exceptions a tool raises or catches ---------------------------------------------
    # left out: BaseException, SystemExit, KeyboardInterrupt, MemoryError (interpreter
    # signals a tool has no business naming), ExceptionGroup and BaseExceptionGroup
    # (except* is refused: CVE-2025-22153)
    **dict.fromkeys(_EXCEPTIONS, "exception class"),
}

# ---------------------------------------------------------------------------------------
# Doors: attribute names refused on every object, at compile time and at run time.
# The reason is shown to the customer. A tool that keeps data under such a name reads it
# as an item: conv.state["f_back"].
# ---------------------------------------------------------------------------------------

_FRAME = "frames lead to the runtime's globals and callers"
FORBIDDEN_ATTRIBUTES: dict[str, str] = {
    # --- frames, code, tracebacks: the interpreter's own state (CVE-2023-37271) ----------
    "gi_frame": _FRAME,
    "gi_code": "code objects",
    "gi_yieldfrom": "the iterator a generator delegates to",
    "cr_frame": _FRAME,
    "cr_code": "code objects",
    "cr_await": "the object a coroutine waits on",
    "cr_origin": _FRAME,
    "ag_frame": _FRAME,
    "ag_code": "code objects",
    "ag_await": "the object an async generator waits on",
    "f_back": _FRAME,
    "f_builtins": "the real builtins",
    "f_globals": _FRAME,
    "f_locals": _FRAME,
    "f_code": "code objects",
    "f_trace": _FRAME,
    "f_generator": _FRAME,
    "tb_frame": _FRAME,
    "tb_next": _FRAME,
    "co_code": "raw bytecode",
    "co_consts": "a code object's constants, including nested code objects",
    "cell_contents": "a closure cell's value: the private state of runtime functions",
    # --- class-graph walks ---------------------------------------------------------------
    "mro": "a class's MRO walks up to `object` and on to every loaded class; use isinstance()",
    "__mro__": "walks up to `object`; use isinstance()",
    "__bases__": "walks up to `object`; use issubclass()",
    "__base__": "walks up to `object`; use issubclass()",
    "__subclasses__": "lists every loaded class in the process",
    # --- functions' internals ------------------------------------------------------------
    "__globals__": "a function's module globals, including real modules and builtins",
    "__builtins__": "the real builtins",
    "__code__": "a function's code object",
    "__closure__": "the cells of a function's closure",
    "__self__": "a builtin method's module or object (len.__self__ is the builtins module)",
    "__func__": "a method's function, callable on any object",
    "__traceback__": "an exception's traceback, whose frames lead out of the sandbox",
    "__weakref__": "weak references run callbacks after the call",
    "__objclass__": "the class a slot belongs to",
    # --- object internals and class hooks -------------------------------------------------
    "__getattribute__": "the raw attribute lookup behind the guard",
    "__reduce__": "pickling internals rebuild objects around their constructors",
    "__reduce_ex__": "pickling internals rebuild objects around their constructors",
    "__getstate__": "pickling internals",
    "__setstate__": "pickling internals",
    "__class_getitem__": "a hook on subscripting a class",
    "__set_name__": "a hook run while classes are built",
    "__subclasshook__": "issubclass() internals",
    "__loader__": "the import machinery",
    "__spec__": "the import machinery",
    "__import__": "the import machinery; write an import statement",
}

# ---------------------------------------------------------------------------------------
# Dunder names, decided per object by the child's attribute guard (a floor: not part of
# a Policy). Any dunder name in none of these tables is refused.
# ---------------------------------------------------------------------------------------

DUNDER_READABLE: frozenset[str] = frozenset(
    {
        # labels of any object; writing them stays refused
        "__name__",
        "__qualname__",
        "__module__",
        "__doc__",
        # an enum's members; exceptions' chaining
        "__members__",
        "__cause__",
        "__context__",
        "__suppress_context__",
    }
)
"""Read on any object."""

DUNDER_TOOL_ONLY: frozenset[str] = frozenset(
    {
        "__dict__",
        "__annotations__",
        "__match_args__",
        "__slots__",
        "__dataclass_fields__",
        "__dataclass_params__",
        "__wrapped__",
        "__orig_bases__",
        "__parameters__",
        "__abstractmethods__",
    }
)
"""Read only on what the tool defined (its classes, instances and functions)."""

DUNDER_PURE_METHODS: frozenset[str] = frozenset(
    {
        "__repr__",
        "__str__",
        "__format__",
        "__hash__",
        "__bool__",
        "__len__",
        "__length_hint__",
        "__iter__",
        "__next__",
        "__reversed__",
        "__contains__",
        "__getitem__",
        "__missing__",
        "__eq__",
        "__ne__",
        "__lt__",
        "__le__",
        "__gt__",
        "__ge__",
        "__add__",
        "__radd__",
        "__sub__",
        "__rsub__",
        "__mul__",
        "__rmul__",
        "__matmul__",
        "__rmatmul__",
        "__truediv__",
        "__rtruediv__",
        "__floordiv__",
        "__rfloordiv__",
        "__mod__",
        "__rmod__",
        "__divmod__",
        "__rdivmod__",
        "__pow__",
        "__rpow__",
        "__lshift__",
        "__rlshift__",
        "__rshift__",
        "__rrshift__",
        "__and__",
        "__rand__",
        "__xor__",
        "__rxor__",
        "__or__",
        "__ror__",
        "__neg__",
        "__pos__",
        "__abs__",
        "__invert__",
        "__int__",
        "__float__",
        "__complex__",
        "__index__",
        "__round__",
        "__trunc__",
        "__floor__",
        "__ceil__",
        "__bytes__",
        "__call__",
        "__enter__",
        "__exit__",
        "__sizeof__",
        "__fspath__",
    }
)
"""Data-model methods that compute without changing their object: callable on any object."""

DUNDER_MUTATING_METHODS: frozenset[str] = frozenset(
    {
        "__init__",
        "__new__",
        "__post_init__",
        "__setattr__",
        "__delattr__",
        "__getattr__",
        "__setitem__",
        "__delitem__",
        "__get__",
        "__set__",
        "__delete__",
        "__copy__",
        "__deepcopy__",
        "__iadd__",
        "__isub__",
        "__imul__",
        "__imatmul__",
        "__itruediv__",
        "__ifloordiv__",
        "__imod__",
        "__ipow__",
        "__ilshift__",
        "__irshift__",
        "__iand__",
        "__ixor__",
        "__ior__",
        "__dir__",
        "__init_subclass__",
    }
)
"""Data-model methods that build, change or look into their object: on the tool's own
objects only. Read unbound from another class (``object.__setattr__``,
``Exception.__init__``), they come wrapped so that their first argument must be a tool
object (a tool class for ``__new__``)."""

DUNDER_METHODS: frozenset[str] = DUNDER_PURE_METHODS | DUNDER_MUTATING_METHODS
"""What a tool class may define."""

DUNDER_CLASS_VARIABLES: frozenset[str] = frozenset({"__slots__", "__doc__", "__match_args__"})
"""Dunder names a class body may bind besides the methods (``__hash__ = None`` is a method name)."""

DUNDER_MODULE_VARIABLES: frozenset[str] = frozenset({"__all__", "__version__", "__author__", "__doc__"})
"""Dunder names a tool module may bind."""

DUNDER_NAMES_READ: frozenset[str] = frozenset(
    {"__name__", "__doc__", "__class__", "__qualname__", "__module__", "__debug__"}
)
"""Dunder *names* (not attributes) tool code may read besides the ones it binds itself:
the module's name, and inside classes the class being defined."""

REFUSED_METHODS: dict[str, str] = {
    "__del__": "a finalizer runs when the runtime frees the object, after the tool's call",
    "__getattribute__": "it would run on every attribute read, including the runtime's own; "
    "define __getattr__ for missing attributes instead",
    "__class_getitem__": "a hook on subscripting the class; subclass typing.Generic instead",
    "__set_name__": "a hook run while other classes are built",
    "__mro_entries__": "it rewrites the bases of classes built from it",
    "__prepare__": "it replaces a class body's namespace",
    "__instancecheck__": "it makes isinstance() lie about objects",
    "__subclasscheck__": "it makes issubclass() lie about classes",
    "__subclasshook__": "it makes issubclass() lie about classes",
    "__reduce__": "pickling internals rebuild objects around their constructors; define "
    "__copy__/__deepcopy__ to control copying",
    "__reduce_ex__": "pickling internals rebuild objects around their constructors; define "
    "__copy__/__deepcopy__ to control copying",
    "__getstate__": "pickling internals; define __copy__/__deepcopy__ to control copying",
    "__setstate__": "pickling internals; define __copy__/__deepcopy__ to control copying",
    "__getnewargs__": "pickling internals",
    "__getnewargs_ex__": "pickling internals",
    "__buffer__": "raw buffers",
    "__release_buffer__": "raw buffers",
    "__await__": "tools are synchronous",
    "__aiter__": "tools are synchronous",
    "__anext__": "tools are synchronous",
    "__aenter__": "tools are synchronous",
    "__aexit__": "tools are synchronous",
}
"""Dunder methods a tool class may not define, with why (the compiler and the class guard)."""

# ---------------------------------------------------------------------------------------
# Never allowed, whatever a Policy says (the floor enforced by the compiler and the child).
# Each reason says what to do instead.
# ---------------------------------------------------------------------------------------

REFUSED_MODULES: dict[str, str] = {
    "os": "tools have no processes, files or environment; read configuration from conv.env "
    "and conv.state, and call APIs with requests",
    "posix": "the C half of os; see os",
    "sys": "sys reaches every module and frame of the process; for the time use datetime, for logging use logging",
    "builtins": "the builtins tools may use are already there",
    "importlib": "it imports anything around the import guard; use an import statement",
    "subprocess": "tools cannot run programs; call an API with requests",
    "ctypes": "it reads and writes process memory",
    "gc": "gc.get_objects()/get_referrers() reach every object in the process",
    "inspect": "it reaches frames, source and closures",
    "types": "its constructors build functions and code objects",
    "code": "an interactive interpreter with real builtins",
    "codeop": "it compiles code",
    "ast": "it compiles code",
    "dis": "it reads code objects",
    "marshal": "it loads code objects; use json for data",
    "pickle": "unpickling runs arbitrary callables; use json for data",
    "copyreg": "it changes how objects are pickled and copied",
    "pathlib": "tools have no file system; keep data in conv.state or fetch it with requests",
    "shutil": "tools have no file system",
    "tempfile": "tools have no file system; keep data in conv.state",
    "glob": "tools have no file system",
    "socket": "tools have no network; call APIs with requests, which the platform sends for you",
    "signal": "it changes how the runtime's deadline is delivered",
    "threading": "threads outlive the call and dodge the deadline; do the work in the call",
    "_thread": "threads outlive the call and dodge the deadline",
    "multiprocessing": "tools cannot create processes",
    "resource": "it changes the call's limits",
    "weakref": "finalizers run code after the call",
    "traceback": "it reaches frames; logging.exception() logs the traceback of your own code",
    "runpy": "it runs modules",
    "pdb": "a debugger with real builtins",
    "sandbox": "the runtime itself",
    "RestrictedPython": "the guards' own implementation",
}

REFUSED_BUILTINS: dict[str, str] = {
    "__import__": "the importer; write an import statement",
    "eval": "it runs code outside the sandbox's compiler; parse data with json or int()/float()",
    "exec": "it runs code outside the sandbox's compiler; call your own functions instead",
    "compile": "it makes code outside the sandbox's compiler",
    "open": "tools have no file system; keep data in conv.state or fetch it with requests",
    "input": "there is no console; the caller's words are in the conversation",
    "breakpoint": "there is no debugger; log values with log.info() or logging",
    "help": "pydoc reads files and imports modules",
    "globals": "the tool's globals hold the runtime's guards; keep data in your own dict",
    "locals": "a frame's namespace; pass values explicitly",
    "dir": "it lists every name of any object, including the runtime's; use hasattr() or vars()",
    "memoryview": "raw buffers of runtime objects; use bytes",
    "id": "object identity is not needed by tools; compare with `is`",
    "exit": "it ends the process outside the runtime's verdicts; return from the function",
    "quit": "it ends the process outside the runtime's verdicts; return from the function",
    "aiter": "tools are synchronous",
    "anext": "tools are synchronous",
}


# Imports made by C functions on a tool's behalf. A builtin implemented in C that
# imports a module does so through the calling frame's ``__import__``, which for tool
# code is the guarded import. Tool code reaching these names is refused by the compiler
# (they are not tool modules); the guarded import grants them to any caller only as
# views holding just the functions those callers use.
RUNTIME_IMPORTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "_strptime": (
        "datetime.strptime and time.strptime import it on first use",
        ("_strptime_datetime", "_strptime_time"),
    )
}
