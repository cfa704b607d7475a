"""The default policy tables: what a tool may import, call and look up. DATA ONLY.

Read by ``sandbox/policy.py`` (supervisor), which freezes them into ``DEFAULT_POLICY``,
and by ``sandbox/inside/guards.py`` (child), which enforces the ``REFUSED_*`` tables as a
floor that no policy can lower. Every entry carries its reason. Deny by default: a module,
module member, builtin or syntax form that is not named here is refused.

How the tables are enforced (so a reviewer knows which layer answers for each):

``MODULES``
    The compiler (``sandbox/compiler.py``) refuses ``import``/``from`` of anything else at
    compile time. In the child the guarded ``__import__`` returns a read-only *view*
    (``sandbox/inside/views.py``) holding only the listed names, never the real module, so
    ``datetime.sys`` or ``json.codecs`` (module attributes that lead back into the
    interpreter without an underscore) are simply absent.
``BUILTINS``
    The only names in the tool's ``__builtins__``. The compiler refuses, at compile time, a
    use of any other Python builtin that the file does not define itself (``open``,
    ``eval``, ``getattr``...), so the customer sees the line. ``__import__`` is never taken
    from this table: the child always installs the guarded one.
``FORBIDDEN_ATTRIBUTES``
    Attribute names refused even though they do not start with ``_`` (every name starting
    with ``_`` is refused anyway, by RestrictedPython at compile time and by the child's
    ``_getattr_`` at run time; a few notable ones are listed here too so the table reads as
    the threat list). Refused at compile time for ``obj.name`` syntax and again at run time.
    A tool that keeps data under such a name reads it as an item: ``conv.state["format"]``.
``REFUSED_MODULES`` / ``REFUSED_BUILTINS``
    Never allowed, whatever a ``Policy`` says: the compiler raises ``InvalidInput`` for a
    policy that lists one, and the child refuses to build globals from such a policy spec.

Modules deliberately left out (not dangerous enough for ``REFUSED_MODULES``, but not offered):
``copy`` (runs ``__reduce_ex__``/``__setstate__`` on any object, rebuilding platform objects
behind their constructors; ``dict(x)``, ``list(x)`` or a ``json`` round trip copy data),
``zoneinfo`` (reads tz files at call time and the child has no filesystem; fixed offsets
work through ``datetime.timezone``), ``secrets`` (tools do not mint credentials;
``uuid.uuid4`` gives unique ids), ``dataclasses`` and ``enum`` (class factories driven by
``exec`` and metaclasses; small plain classes cover the need), ``fractions``, ``array``,
``struct``, ``logging`` (tools use the injected ``log``), networking (``urllib.request``,
``http``, ``socket``: the child has no network; ``requests`` is toolpool's own module, below),
``locale``, ``csv``/``io`` (file objects).
"""

from __future__ import annotations

# ---------------------------------------------------------------------------------------
# Modules: name -> (reason, names a tool may take from it).
# Members left out of an allowed module are noted beside it with the reason.
# ---------------------------------------------------------------------------------------

MODULES: dict[str, tuple[str, tuple[str, ...]]] = {
    "__future__": (
        "`from __future__ import annotations` is common in copied code; only that feature",
        ("annotations",),
    ),
    "base64": (
        "encode/decode tokens and payloads; pure functions on bytes",
        # left out: encode/decode (file objects), b85/a85 (rarely needed)
        (
            "b64encode", "b64decode", "urlsafe_b64encode", "urlsafe_b64decode",
            "standard_b64encode", "standard_b64decode", "b32encode", "b32decode",
            "b16encode", "b16decode",
        ),
    ),
    "calendar": (
        "day/month names and month arithmetic for booking flows; pure functions",
        # left out: TextCalendar/HTMLCalendar/prmonth/prcal (print to the real stdout),
        # LocaleTextCalendar (setlocale), setfirstweekday (mutates module state)
        (
            "isleap", "leapdays", "monthrange", "weekday", "monthcalendar", "timegm",
            "day_name", "day_abbr", "month_name", "month_abbr",
            "MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY",
        ),
    ),
    "collections": (
        "richer containers; tool code can write into these like dict/list",
        # left out: ChainMap (little use), UserDict/UserList/UserString, abc (ABC.register
        # mutates the process-wide ABC registry)
        ("Counter", "OrderedDict", "defaultdict", "deque", "namedtuple"),
    ),
    "datetime": (
        "the platform docs use it (current date/time in start_function); pure values",
        # left out: datetime.sys and datetime_CAPI (a module and a capsule: ways back into
        # the interpreter that need no underscore)
        ("date", "datetime", "time", "timedelta", "timezone", "tzinfo", "MINYEAR", "MAXYEAR", "UTC"),
    ),
    "decimal": (
        "exact money arithmetic; set precision with decimal.localcontext(prec=...)",
        # left out: setcontext, Context (contexts are not writable through the write guard,
        # so `getcontext().prec = n` is refused; localcontext(prec=n) is the supported form)
        (
            "Decimal", "getcontext", "localcontext",
            "ROUND_CEILING", "ROUND_DOWN", "ROUND_FLOOR", "ROUND_HALF_DOWN",
            "ROUND_HALF_EVEN", "ROUND_HALF_UP", "ROUND_UP", "ROUND_05UP",
            "DecimalException", "InvalidOperation", "DivisionByZero",
        ),
    ),
    "difflib": (
        "fuzzy matching of what a caller said against known names",
        ("get_close_matches", "SequenceMatcher"),
    ),
    "functools": (
        "functional helpers on the tool's own functions",
        # left out: wraps/update_wrapper (copy __dict__ and set attributes on ANY object,
        # bypassing the write guard), total_ordering (sets attributes on a class passed
        # in), singledispatch (registry walks __mro__)
        ("reduce", "partial", "lru_cache", "cache", "cmp_to_key"),
    ),
    "hashlib": (
        "hash payloads and ids; pure functions over bytes",
        # left out: new (looks up algorithms by name in OpenSSL, which may read config
        # files), pbkdf2_hmac/scrypt (CPU sinks with no use in a tool), file_digest (files)
        (
            "md5", "sha1", "sha224", "sha256", "sha384", "sha512",
            "sha3_256", "sha3_512", "blake2b", "blake2s",
        ),
    ),
    "hmac": (
        "sign and verify webhook or API payloads",
        ("new", "digest", "compare_digest"),
    ),
    "itertools": (
        "iteration helpers; runaway loops are bounded by the CPU and memory limits",
        (
            "accumulate", "chain", "combinations", "combinations_with_replacement",
            "compress", "count", "cycle", "dropwhile", "filterfalse", "groupby", "islice",
            "pairwise", "permutations", "product", "repeat", "starmap", "takewhile",
            "tee", "zip_longest",
        ),
    ),
    "json": (
        "parse and produce JSON payloads",
        # left out: dump/load (file objects); json.decoder/encoder/scanner/codecs are
        # modules and never exposed
        ("dumps", "loads", "JSONDecodeError", "JSONEncoder", "JSONDecoder"),
    ),
    "math": (
        "arithmetic; pure functions and constants",
        (
            "acos", "acosh", "asin", "asinh", "atan", "atan2", "atanh", "cbrt", "ceil",
            "comb", "copysign", "cos", "cosh", "degrees", "dist", "e", "erf", "erfc", "exp",
            "exp2", "expm1", "fabs", "factorial", "floor", "fmod", "frexp", "fsum", "gamma",
            "gcd", "hypot", "inf", "isclose", "isfinite", "isinf", "isnan", "isqrt", "lcm",
            "ldexp", "lgamma", "log", "log10", "log1p", "log2", "modf", "nan", "nextafter",
            "perm", "pi", "pow", "prod", "radians", "remainder", "sin", "sinh", "sqrt", "tan",
            "tanh", "tau", "trunc", "ulp",
        ),
    ),
    "polyai.voice": (
        "the platform's TTS voice classes for conv.set_voice (sandbox/inside/voice.py)",
        ("CartesiaVoice", "ElevenLabsVoice", "PlayHTVoice", "RimeVoice"),
    ),
    "requests": (
        "outbound HTTP (issue 8): toolpool's own requests-compatible module "
        "(sandbox/inside/http.py); each request travels to the supervisor, which enforces the "
        "tenant's egress policy (sandbox/egress.py). The real requests and sockets stay out of reach",
        # left out: Session, codes, PreparedRequest, adapters, utils, auth classes (the
        # module-level functions cover what tools write; requests' internals are not there)
        (
            "request", "get", "head", "post", "put", "patch", "delete", "Response",
            "RequestException", "HTTPError", "ConnectionError", "EgressRefused", "SSLError",
            "Timeout", "ConnectTimeout", "ReadTimeout", "TooManyRedirects", "InvalidURL",
            "MissingSchema", "InvalidSchema", "InvalidHeader", "InvalidJSONError",
            "JSONDecodeError", "RequestLimitExceeded", "ResponseTooLarge",
        ),
    ),
    "requests.exceptions": (
        "`from requests.exceptions import HTTPError`, as copied code writes it; the same classes",
        (
            "RequestException", "HTTPError", "ConnectionError", "EgressRefused", "SSLError",
            "Timeout", "ConnectTimeout", "ReadTimeout", "TooManyRedirects", "InvalidURL",
            "MissingSchema", "InvalidSchema", "InvalidHeader", "InvalidJSONError",
            "JSONDecodeError", "RequestLimitExceeded", "ResponseTooLarge",
        ),
    ),
    "random": (
        "pick prompts and back-off jitter; the child's generator is reseeded per fork",
        # left out: SystemRandom (os.urandom per call), getstate/setstate (no use)
        (
            "random", "randint", "randrange", "choice", "choices", "shuffle", "sample",
            "uniform", "gauss", "normalvariate", "triangular", "expovariate",
            "getrandbits", "randbytes", "seed", "Random",
        ),
    ),
    "re": (
        "pattern matching on utterances and ids; runaway patterns hit the CPU limit",
        # left out: purge, template, DEBUG, LOCALE (locale-dependent)
        (
            "compile", "search", "match", "fullmatch", "split", "findall", "finditer",
            "sub", "subn", "escape", "error", "Pattern", "Match",
            "A", "ASCII", "I", "IGNORECASE", "M", "MULTILINE", "S", "DOTALL",
            "X", "VERBOSE", "U", "UNICODE", "NOFLAG",
        ),
    ),
    "statistics": (
        "summaries of numbers (averages of ratings, wait times)",
        (
            "mean", "fmean", "geometric_mean", "harmonic_mean", "median", "median_low",
            "median_high", "mode", "multimode", "quantiles", "stdev", "pstdev", "variance",
            "pvariance", "StatisticsError",
        ),
    ),
    "string": (
        "character-class constants and $-templates like the platform's prompts",
        # left out: Formatter (its format/get_field walk attributes and items of any
        # object outside the guards: CVE-2023-41039, CVE-2026-76825)
        (
            "ascii_letters", "ascii_lowercase", "ascii_uppercase", "digits", "hexdigits",
            "octdigits", "punctuation", "printable", "whitespace", "capwords", "Template",
        ),
    ),
    "textwrap": (
        "shape utterances and prompts; pure functions on str",
        ("dedent", "indent", "fill", "wrap", "shorten"),
    ),
    "time": (
        "timestamps; sleep is bounded by the call deadline",
        # left out: tzset (re-reads TZ from the environment), clock_settime and friends
        # (system clock), get_clock_info, pthread_getcpuclockid, thread_time
        (
            "time", "time_ns", "monotonic", "monotonic_ns", "perf_counter",
            "perf_counter_ns", "process_time", "sleep", "strftime", "strptime", "gmtime",
            "localtime", "mktime", "asctime", "ctime", "struct_time", "timezone",
            "altzone", "daylight", "tzname",
        ),
    ),
    "typing": (
        "type hints in copied code (`Optional[str]`, `Dict[str, Any]`); hints are inert",
        # left out: the collections.abc aliases (Mapping, Sequence, Iterable, Callable...:
        # they forward attribute reads to ABCs whose register() mutates global state),
        # get_type_hints (evaluates strings), NamedTuple/TypedDict/Protocol (class machinery)
        ("Any", "Optional", "Union", "List", "Dict", "Tuple", "Set", "FrozenSet", "Literal"),
    ),
    "unicodedata": (
        "normalise names and accents before matching",
        ("normalize", "is_normalized", "category", "name", "lookup"),
    ),
    "urllib.parse": (
        "build and read URLs and query strings; pure functions on str",
        (
            "quote", "quote_plus", "unquote", "unquote_plus", "urlencode", "urlparse",
            "urlunparse", "urlsplit", "urlunsplit", "urljoin", "urldefrag",
            "parse_qs", "parse_qsl",
        ),
    ),
    "uuid": (
        "unique ids for bookings and correlation",
        # left out: uuid1/getnode (read the host's hardware address, may run commands)
        ("uuid3", "uuid4", "uuid5", "UUID", "NAMESPACE_DNS", "NAMESPACE_URL", "NAMESPACE_OID", "NAMESPACE_X500"),
    ),
}

# ---------------------------------------------------------------------------------------
# Builtins: name -> reason. The tool's __builtins__ holds these and nothing else
# (plus the guarded __import__, always installed by the child).
# ---------------------------------------------------------------------------------------

BUILTINS: dict[str, str] = {
    # --- the class statement -----------------------------------------------------------
    "__build_class__": "runs a `class` statement; tool code cannot name it (leading '_'). "
    "Remove it to refuse classes at compile time",
    # --- constants and types -------------------------------------------------------------
    "NotImplemented": "return value for comparison methods of small tool classes",
    "bool": "type and conversion",
    "bytes": "type and conversion; needed around base64/hashlib/hmac",
    "complex": "numeric type",
    "dict": "type and conversion",
    "float": "type and conversion",
    "frozenset": "type and conversion",
    "int": "type and conversion (CPython caps int<->str at 4300 digits)",
    "list": "type and conversion",
    "object": "base class for `class X(object)`; every attribute it has starts with '_'",
    "property": "computed attributes on small tool classes (fget/fset/fdel are forbidden "
    "attribute names, so a runtime property's functions cannot be called directly)",
    "classmethod": "alternate constructors on small tool classes",
    "staticmethod": "helpers grouped on small tool classes",
    "range": "type; large ranges are lazy",
    "set": "type and conversion",
    "slice": "type; item access with slices",
    "str": "type and conversion",
    "tuple": "type and conversion",
    # --- functions -----------------------------------------------------------------------
    "abs": "arithmetic",
    "all": "iteration helper",
    "any": "iteration helper",
    "ascii": "text conversion",
    "bin": "text conversion",
    "callable": "introspection that reveals nothing but a bool",
    "chr": "text conversion",
    "divmod": "arithmetic",
    "enumerate": "iteration helper",
    "filter": "iteration helper",
    "format": "format(value, spec): one value through its __format__ mini-language; unlike "
    "str.format it has no field syntax, so it cannot walk attributes",
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
    "print": "routed to log.info (RestrictedPython rewrites print to the _print_ guard)",
    "repr": "text conversion",
    "reversed": "iteration helper",
    "round": "arithmetic",
    "sorted": "iteration helper",
    "sum": "iteration helper",
    "zip": "iteration helper",
    # --- exceptions a tool raises or catches ---------------------------------------------
    # left out: BaseException, SystemExit, KeyboardInterrupt, GeneratorExit, MemoryError
    # (interpreter signals a tool has no business naming), ExceptionGroup and
    # BaseExceptionGroup (except* is refused: CVE-2025-22153), warnings (no warnings module)
    "ArithmeticError": "exception class",
    "AssertionError": "exception class (assert statements)",
    "AttributeError": "exception class",
    "ConnectionError": "exception class",
    "Exception": "base class for the tool's own exceptions",
    "ImportError": "exception class (raised by the import guard)",
    "IndexError": "exception class",
    "KeyError": "exception class",
    "LookupError": "exception class",
    "ModuleNotFoundError": "exception class",
    "NameError": "exception class",
    "NotImplementedError": "exception class",
    "OSError": "exception class",
    "OverflowError": "exception class",
    "RecursionError": "exception class",
    "RuntimeError": "exception class",
    "StopIteration": "exception class (next() without a default)",
    "TimeoutError": "exception class",
    "TypeError": "exception class",
    "UnboundLocalError": "exception class",
    "UnicodeDecodeError": "exception class",
    "UnicodeEncodeError": "exception class",
    "UnicodeError": "exception class",
    "ValueError": "exception class",
    "ZeroDivisionError": "exception class",
}

# ---------------------------------------------------------------------------------------
# Attribute names refused although they do not (all) start with "_": name -> reason.
# The reason is shown to the customer in the compile error.
# ---------------------------------------------------------------------------------------

FORBIDDEN_ATTRIBUTES: dict[str, str] = {
    # --- str.format and friends: field syntax walks attributes and items (CVE-2023-41039)
    "format": "str.format walks attributes of its arguments ('{0.__class__}'); use f-strings",
    "format_map": "str.format_map walks attributes of its arguments; use f-strings",
    "vformat": "Formatter.vformat walks attributes of its arguments",
    # --- class hierarchy walks -----------------------------------------------------------
    "mro": "type.mro() reaches `object`, the start of the subclasses walk out of the sandbox",
    # --- exception payloads that hold live objects ---------------------------------------
    "obj": "AttributeError.obj holds the object whose lookup failed (CVE-2024-47532)",
    # --- frames, code, tracebacks: the interpreter's own state (CVE-2023-37271) ----------
    "gi_frame": "a generator's frame leads to its globals and callers",
    "gi_code": "a generator's code object",
    "gi_yieldfrom": "the iterator a generator delegates to (may be trusted code)",
    "cr_frame": "a coroutine's frame",
    "cr_code": "a coroutine's code object",
    "cr_await": "the object a coroutine waits on",
    "cr_origin": "where a coroutine was created (frames)",
    "ag_frame": "an async generator's frame",
    "ag_code": "an async generator's code object",
    "ag_await": "the object an async generator waits on",
    "f_back": "a frame's caller: walks out of tool code into the runtime",
    "f_builtins": "a frame's builtins: the real ones for trusted frames",
    "f_globals": "a frame's globals: the runtime's modules for trusted frames",
    "f_locals": "a frame's local variables",
    "f_code": "a frame's code object",
    "f_trace": "a frame's trace function",
    "f_generator": "the generator that owns a frame (Python 3.14+)",
    "tb_frame": "a traceback's frame",
    "tb_next": "the next traceback entry (trusted frames)",
    "co_code": "raw bytecode",
    "co_consts": "a code object's constants, including nested code objects",
    "cell_contents": "a closure cell's value: the private state of trusted functions",
    # --- a property's functions run trusted code against a tool-chosen object -----------
    "fget": "property.fget(other) runs a runtime getter against an object the tool picks",
    "fset": "property.fset(obj, value) writes without passing the write guard",
    "fdel": "property.fdel(obj) deletes without passing the write guard",
    # --- notable underscore names (refused anyway by the '_' rule; listed for the reader)
    "__class__": "first step of the classic escape: ().__class__.__base__.__subclasses__()",
    "__base__": "walks up to `object`",
    "__bases__": "walks up to `object`",
    "__mro__": "walks up to `object`",
    "__subclasses__": "lists every loaded class, including ones that open files or run code",
    "__globals__": "a function's module globals, including real modules and builtins",
    "__builtins__": "the real builtins (eval, exec, open, __import__)",
    "__code__": "a function's code object; replacing it runs unrestricted bytecode",
    "__closure__": "the cells of a trusted function's closure",
    "__dict__": "an object's or module's namespace, writable behind the guards",
    "__getattribute__": "calls the raw attribute lookup behind the guard",
    "__self__": "a builtin method's module (len.__self__ is the builtins module)",
    "__traceback__": "an exception's traceback, whose frames lead out of the sandbox",
    "__reduce_ex__": "pickling protocol: rebuilds objects around their constructors",
}

# ---------------------------------------------------------------------------------------
# Never allowed, whatever a Policy says (the floor enforced by the compiler and the child).
# ---------------------------------------------------------------------------------------

REFUSED_MODULES: dict[str, str] = {
    "os": "processes, files, environment",
    "posix": "the C half of os",
    "sys": "sys.modules holds every real module; sys._getframe reaches frames",
    "builtins": "the real builtins (eval, exec, open, __import__)",
    "importlib": "imports anything, around the import guard",
    "subprocess": "runs programs",
    "ctypes": "reads and writes process memory",
    "gc": "gc.get_objects()/get_referrers() reach every object in the process",
    "inspect": "frames, source, closures",
    "types": "constructors for functions and code objects",
    "code": "an interactive interpreter with real builtins",
    "codeop": "compiles code",
    "ast": "compiles code",
    "dis": "code objects",
    "marshal": "loads code objects",
    "pickle": "unpickling runs arbitrary callables",
    "copyreg": "changes how objects are pickled and copied",
    "operator": "attrgetter/methodcaller read attributes outside the getattr guard",
    "io": "files",
    "pathlib": "files",
    "shutil": "files",
    "tempfile": "files",
    "glob": "files",
    "socket": "network",
    "signal": "changes how the runtime's deadline is delivered",
    "threading": "threads outlive the call and dodge the deadline",
    "_thread": "threads",
    "multiprocessing": "processes",
    "resource": "changes the call's limits",
    "weakref": "finalizers run code at collection time",
    "traceback": "frames",
    "runpy": "runs modules",
    "pdb": "debugger with real builtins",
    "sandbox": "the runtime itself",
    "RestrictedPython": "the guards' own implementation",
}

REFUSED_BUILTINS: dict[str, str] = {
    "__import__": "the real importer; the child always installs the guarded one instead",
    "eval": "compiles and runs code without the RestrictedPython transformer",
    "exec": "compiles and runs code without the RestrictedPython transformer",
    "compile": "makes code objects without the RestrictedPython transformer",
    "open": "files",
    "input": "reads the child's stdin (the request channel)",
    "breakpoint": "starts a debugger with real builtins",
    "help": "pydoc: imports modules, reads files",
    "getattr": "dynamic attribute names dodge the compile-time checks",
    "setattr": "writes around the write guard",
    "delattr": "deletes around the write guard",
    "hasattr": "dynamic attribute names dodge the compile-time checks",
    "globals": "the tool's globals hold the guards themselves",
    "locals": "a frame's namespace",
    "vars": "an object's or module's __dict__",
    "dir": "lists names, including underscore ones, of any object",
    "type": "type(name, bases, dict) builds classes around the class guard; "
    "type(x) reaches classes of runtime objects",
    "super": "super() proxies reach methods of runtime classes on tool-chosen objects",
    "memoryview": "raw buffers of runtime objects",
    "id": "object identity is not needed by tools (addresses stay visible through repr(): see the README's Limitations)",
    "exit": "ends the child outside the runtime's verdicts",
    "quit": "ends the child outside the runtime's verdicts",
    "aiter": "async iteration (async syntax is refused)",
    "anext": "async iteration (async syntax is refused)",
}


# Imports made by C functions on a tool's behalf. A builtin implemented in C that
# imports a module does so through the calling frame's ``__import__``, which for tool
# code is the guarded import. A tool cannot write these names itself (they start with
# "_", which the compiler refuses), so the guarded import grants them to C callers
# only, as views holding just the functions those callers use.
RUNTIME_IMPORTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "_strptime": (
        "datetime.strptime and time.strptime import it on first use",
        ("_strptime_datetime", "_strptime_time"),
    ),
}
