"""The modules tools may import, and the members each view leaves out. DATA ONLY.

Part of the default policy tables (``sandbox/policy_tables.py`` re-exports both tables
and says how each is enforced). ``MODULES`` names each module a tool may import, why, and
the members its view holds; ``LEFT_OUT`` says, for members a view deliberately leaves
out, why and what to use instead: the compiler (``from contextlib import
redirect_stdout``), the import guard and the module views (``contextlib.redirect_stdout``)
show that reason to the customer instead of a bare "not available".
"""

from __future__ import annotations

# fmt: off
# The tables are laid out by hand, many names to a line, so that a module reads as one
# block; one name per line would make this file three times as long.

# ---------------------------------------------------------------------------------------
# Modules: name -> (reason, names a tool may take from it).
# Members a view leaves out on purpose are in LEFT_OUT below, each with why and what
# to use instead.
# ---------------------------------------------------------------------------------------

_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_REQUESTS_EXCEPTIONS = (
    "RequestException", "HTTPError", "ConnectionError", "EgressRefused", "SSLError",
    "Timeout", "ConnectTimeout", "ReadTimeout", "TooManyRedirects", "InvalidURL",
    "MissingSchema", "InvalidSchema", "InvalidHeader", "InvalidJSONError",
    "JSONDecodeError", "RequestLimitExceeded", "ResponseTooLarge",
)

MODULES: dict[str, tuple[str, tuple[str, ...]]] = {
    "__future__": (
        "`from __future__ import annotations` is common in copied code; only that feature",
        ("annotations",),
    ),
    "abc": (
        "abstract base classes for the tool's own class hierarchies",
        # ABCMeta is a handle usable as `metaclass=ABCMeta` and with isinstance, never
        # called to build a class around the class guard; `register` works on the tool's
        # own ABCs only (the guard refuses it on the standard library's)
        ("ABC", "ABCMeta", "abstractmethod"),
    ),
    "base64": (
        "encode/decode tokens and payloads; pure functions on bytes",
        (
            "b64encode", "b64decode", "urlsafe_b64encode", "urlsafe_b64decode",
            "standard_b64encode", "standard_b64decode", "b32encode", "b32decode",
            "b16encode", "b16decode", "b85encode", "b85decode", "a85encode", "a85decode",
        ),
    ),
    "binascii": (
        "hex and checksum helpers on bytes",
        ("hexlify", "unhexlify", "b2a_hex", "a2b_hex", "b2a_base64", "a2b_base64", "crc32",
         "crc_hqx", "Error", "Incomplete"),
    ),
    "bisect": (
        "sorted-list search for slots and price bands",
        ("bisect", "bisect_left", "bisect_right", "insort", "insort_left", "insort_right"),
    ),
    "calendar": (
        "day/month names and month arithmetic for booking flows; pure functions",
        (
            "isleap", "leapdays", "monthrange", "weekday", "monthcalendar", "timegm",
            "day_name", "day_abbr", "month_name", "month_abbr", "Calendar", "firstweekday",
            "IllegalMonthError", "IllegalWeekdayError",
            "MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY",
        ),
    ),
    "collections": (
        "richer containers; tool code can write into these like dict/list",
        # namedtuple builds a tool class (its _asdict/_replace are the tool's);
        # collections.abc is its own view below
        ("Counter", "OrderedDict", "defaultdict", "deque", "namedtuple", "ChainMap",
         "UserDict", "UserList", "UserString"),
    ),
    "collections.abc": (
        "the container ABCs, for isinstance checks and as bases",
        # `register` is refused on these (the guard): it would rewrite isinstance() for
        # every other object in the process
        (
            "Iterable", "Iterator", "Generator", "Reversible", "Container", "Collection",
            "Hashable", "Sized", "Callable", "Sequence", "MutableSequence", "Set",
            "MutableSet", "Mapping", "MutableMapping", "MappingView", "KeysView",
            "ItemsView", "ValuesView", "ByteString",
        ),
    ),
    "contextlib": (
        "context managers for the tool's own resources",
        ("contextmanager", "suppress", "closing", "nullcontext", "ExitStack",
         "AbstractContextManager", "ContextDecorator"),
    ),
    "copy": (
        "copies of the tool's own data and objects",
        # copy/deepcopy refuse the runtime's objects (conv, log, views): rebuilding them
        # through __reduce_ex__ would make platform objects behind their constructors
        ("copy", "deepcopy", "Error"),
    ),
    "csv": (
        "read and write CSV text held in str or io.StringIO",
        (
            "reader", "writer", "DictReader", "DictWriter", "Dialect", "excel", "excel_tab",
            "unix_dialect", "Sniffer", "Error", "QUOTE_ALL", "QUOTE_MINIMAL", "QUOTE_NONE",
            "QUOTE_NONNUMERIC", "list_dialects", "get_dialect",
        ),
    ),
    "dataclasses": (
        "booking and order objects as dataclasses",
        # dataclass and make_dataclass build tool classes (member names checked like a
        # class statement's)
        (
            "dataclass", "field", "fields", "asdict", "astuple", "replace", "is_dataclass",
            "make_dataclass", "FrozenInstanceError", "InitVar", "KW_ONLY", "MISSING", "Field",
        ),
    ),
    "datetime": (
        "the platform docs use it (current date/time in start_function); pure values",
        ("date", "datetime", "time", "timedelta", "timezone", "tzinfo", "MINYEAR", "MAXYEAR", "UTC"),
    ),
    "dateutil.easter": (
        "Easter dates for holiday opening hours",
        ("easter", "EASTER_JULIAN", "EASTER_ORTHODOX", "EASTER_WESTERN"),
    ),
    "dateutil.parser": (
        "dates as callers say them ('Tuesday 3pm')",
        ("parse", "isoparse", "parser", "parserinfo", "ParserError"),
    ),
    "dateutil.relativedelta": (
        "calendar arithmetic ('next Tuesday', 'in two months')",
        ("relativedelta", "weekday", *_DAYS),
    ),
    "dateutil.rrule": (
        "recurring appointments and opening schedules",
        ("rrule", "rruleset", "rrulestr", "weekday", "YEARLY", "MONTHLY", "WEEKLY", "DAILY",
         "HOURLY", "MINUTELY", "SECONDLY", *_DAYS),
    ),
    "dateutil.tz": (
        "time zones; gettz is served from the same bundled tzdata database as zoneinfo",
        ("gettz", "tzutc", "UTC", "tzoffset", "tzlocal", "tzstr", "tzrange",
         "resolve_imaginary", "datetime_exists", "datetime_ambiguous", "enfold"),
    ),
    "decimal": (
        "exact money arithmetic; the call's own context is writable (getcontext().prec = 12)",
        (
            "Decimal", "Context", "getcontext", "setcontext", "localcontext",
            "BasicContext", "ExtendedContext", "DefaultContext",
            "ROUND_CEILING", "ROUND_DOWN", "ROUND_FLOOR", "ROUND_HALF_DOWN",
            "ROUND_HALF_EVEN", "ROUND_HALF_UP", "ROUND_UP", "ROUND_05UP",
            "MAX_PREC", "MAX_EMAX", "MIN_EMIN", "MIN_ETINY",
            "DecimalException", "InvalidOperation", "DivisionByZero", "Inexact", "Rounded",
            "Subnormal", "Overflow", "Underflow", "Clamped", "FloatOperation",
            "DivisionImpossible", "DivisionUndefined", "ConversionSyntax", "InvalidContext",
        ),
    ),
    "difflib": (
        "fuzzy matching of what a caller said against known names",
        ("get_close_matches", "SequenceMatcher", "unified_diff", "context_diff", "ndiff",
         "Differ", "IS_LINE_JUNK", "IS_CHARACTER_JUNK"),
    ),
    "email.utils": (
        "date and address headers of HTTP and e-mail APIs",
        ("formatdate", "format_datetime", "parsedate", "parsedate_tz", "parsedate_to_datetime",
         "mktime_tz", "parseaddr", "formataddr", "getaddresses", "quote", "unquote",
         "localtime"),
    ),
    "enum": (
        "intents, statuses and flags as enums",
        (
            "Enum", "IntEnum", "StrEnum", "Flag", "IntFlag", "ReprEnum", "auto", "unique",
            "verify", "member", "nonmember", "property", "EnumCheck", "FlagBoundary",
            "UNIQUE", "CONTINUOUS", "NAMED_FLAGS", "STRICT", "CONFORM", "EJECT", "KEEP",
        ),
    ),
    "fractions": ("exact ratios (split bills, portions)", ("Fraction",)),
    "functools": (
        "functional helpers on the tool's own functions and classes",
        # wraps/update_wrapper take only the default assigned/updated (custom ones copy
        # function internals such as __code__) and a tool function or object as wrapper;
        # total_ordering takes only a tool class
        (
            "reduce", "partial", "partialmethod", "lru_cache", "cache", "cached_property",
            "wraps", "update_wrapper", "total_ordering", "cmp_to_key", "singledispatch",
            "singledispatchmethod", "WRAPPER_ASSIGNMENTS", "WRAPPER_UPDATES",
        ),
    ),
    "hashlib": (
        "hash payloads and ids; pure functions over bytes",
        (
            "md5", "sha1", "sha224", "sha256", "sha384", "sha512",
            "sha3_256", "sha3_512", "blake2b", "blake2s",
        ),
    ),
    "heapq": (
        "priority queues (waitlists, next free slot)",
        ("heappush", "heappop", "heapify", "heapreplace", "heappushpop", "nlargest",
         "nsmallest", "merge"),
    ),
    "hmac": (
        "sign and verify webhook or API payloads",
        ("new", "digest", "compare_digest", "HMAC"),
    ),
    "html": ("escape text for HTML and SMS templates", ("escape", "unescape")),
    "io": (
        "in-memory text and bytes streams, for csv",
        ("StringIO", "BytesIO"),
    ),
    "ipaddress": (
        "check and classify addresses in payloads",
        (
            "ip_address", "ip_network", "ip_interface", "IPv4Address", "IPv6Address",
            "IPv4Network", "IPv6Network", "IPv4Interface", "IPv6Interface",
            "AddressValueError", "NetmaskValueError", "collapse_addresses",
            "summarize_address_range", "get_mixed_type_key",
        ),
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
        ("dumps", "loads", "JSONDecodeError", "JSONEncoder", "JSONDecoder"),
    ),
    "logging": (
        "toolpool's own logging module: records go into the call's logs at every level "
        "(sandbox/child/modules/toollogging.py)",
        (
            "getLogger", "Logger", "LoggerAdapter", "NullHandler", "StreamHandler", "Formatter", "basicConfig",
            "getLevelName", "disable", "debug", "info", "warning", "warn", "error",
            "exception", "critical", "fatal", "log", "CRITICAL", "FATAL", "ERROR",
            "WARNING", "WARN", "INFO", "DEBUG", "NOTSET",
        ),
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
    "numbers": ("the numeric ABCs, for isinstance checks",
                ("Number", "Complex", "Real", "Rational", "Integral")),
    "operator": (
        "itemgetter/attrgetter keys for sorting, and the operators as functions",
        # attrgetter and methodcaller resolve every step through the attribute guard;
        (
            "abs", "add", "and_", "attrgetter", "call", "concat", "contains", "countOf",
            "eq", "floordiv", "ge", "getitem", "gt", "index", "indexOf", "inv", "invert",
            "is_", "is_not", "itemgetter", "le", "length_hint", "lshift", "lt", "matmul",
            "methodcaller", "mod", "mul", "ne", "neg", "not_", "or_", "pos", "pow",
            "rshift", "sub", "truediv", "truth", "xor",
        ),
    ),
    "phonenumbers": (
        "parse, validate and format phone numbers (E.164, national, international); "
        "the template loads every region's metadata before confinement",
        (
            "parse", "format_number", "format_out_of_country_calling_number",
            "format_in_original_format", "format_number_for_mobile_dialing",
            "format_national_number_with_carrier_code", "format_by_pattern",
            "is_valid_number", "is_valid_number_for_region", "is_possible_number",
            "is_possible_number_string", "is_possible_number_with_reason", "number_type",
            "region_code_for_number", "region_code_for_country_code",
            "region_codes_for_country_code", "country_code_for_region",
            "national_significant_number", "normalize_digits_only", "example_number",
            "example_number_for_type", "is_number_match", "is_nanpa_country",
            "is_alpha_number", "convert_alpha_characters_in_number",
            "length_of_geographical_area_code", "supported_calling_codes",
            "truncate_too_long_number", "ndd_prefix_for_region", "PhoneNumber",
            "PhoneNumberFormat", "PhoneNumberType", "PhoneNumberMatcher", "PhoneNumberMatch",
            "NumberParseException", "ValidationResult", "CountryCodeSource", "Leniency",
            "MatchType", "AsYouTypeFormatter", "SUPPORTED_REGIONS", "UNKNOWN_REGION",
            "COUNTRY_CODE_TO_REGION_CODE",
        ),
    ),
    "polyai.voice": (
        "the platform's TTS voice classes for conv.set_voice (sandbox/child/voice.py)",
        ("CartesiaVoice", "ElevenLabsVoice", "PlayHTVoice", "RimeVoice"),
    ),
    "random": (
        "pick prompts and back-off jitter; the child's generator is reseeded per fork",
        (
            "random", "randint", "randrange", "choice", "choices", "shuffle", "sample",
            "uniform", "gauss", "normalvariate", "triangular", "expovariate",
            "getrandbits", "randbytes", "seed", "Random", "SystemRandom",
        ),
    ),
    "re": (
        "pattern matching on utterances and ids; runaway patterns hit the CPU limit",
        (
            "compile", "search", "match", "fullmatch", "split", "findall", "finditer",
            "sub", "subn", "escape", "error", "Pattern", "Match",
            "A", "ASCII", "I", "IGNORECASE", "M", "MULTILINE", "S", "DOTALL",
            "X", "VERBOSE", "U", "UNICODE", "NOFLAG",
        ),
    ),
    "requests": (
        "outbound HTTP (issue 8): toolpool's own requests-compatible module "
        "(sandbox/child/http.py); each request travels to the supervisor, which enforces the "
        "tenant's egress policy (sandbox/egress/). The real requests and sockets stay out of reach",
        ("request", "get", "head", "post", "put", "patch", "delete", "Response", *_REQUESTS_EXCEPTIONS),
    ),
    "requests.exceptions": (
        "`from requests.exceptions import HTTPError`, as copied code writes it; the same classes",
        _REQUESTS_EXCEPTIONS,
    ),
    "secrets": (
        "one-time codes and tokens",
        ("token_bytes", "token_hex", "token_urlsafe", "choice", "randbelow", "randbits",
         "compare_digest", "SystemRandom"),
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
        (
            "ascii_letters", "ascii_lowercase", "ascii_uppercase", "digits", "hexdigits",
            "octdigits", "punctuation", "printable", "whitespace", "capwords", "Template",
        ),
    ),
    "textwrap": (
        "shape utterances and prompts; pure functions on str",
        ("dedent", "indent", "fill", "wrap", "shorten", "TextWrapper"),
    ),
    "time": (
        "timestamps; sleep is bounded by the call deadline",
        (
            "time", "time_ns", "monotonic", "monotonic_ns", "perf_counter",
            "perf_counter_ns", "process_time", "sleep", "strftime", "strptime", "gmtime",
            "localtime", "mktime", "asctime", "ctime", "struct_time", "timezone",
            "altzone", "daylight", "tzname",
        ),
    ),
    "typing": (
        "type hints, at run time as well as in annotations",
        # NamedTuple builds a tool class
        (
            "Any", "Optional", "Union", "List", "Dict", "Tuple", "Set", "FrozenSet", "Type",
            "Literal", "Final", "final", "ClassVar", "Annotated", "Callable", "Iterable",
            "Iterator", "Generator", "Sequence", "MutableSequence", "Mapping",
            "MutableMapping", "Collection", "Container", "Hashable", "Sized", "Reversible",
            "AbstractSet", "MutableSet", "KeysView", "ItemsView", "ValuesView", "Counter",
            "Deque", "DefaultDict", "OrderedDict", "ChainMap", "NamedTuple", "TypedDict",
            "Protocol", "runtime_checkable", "TypeVar", "Generic", "ParamSpec",
            "Concatenate", "TypeAlias", "TypeGuard", "NewType", "NoReturn", "Never", "Self",
            "LiteralString", "Required", "NotRequired", "Unpack", "TypeVarTuple", "AnyStr",
            "Text", "Pattern", "Match", "SupportsInt", "SupportsFloat", "SupportsAbs",
            "SupportsRound", "SupportsIndex", "cast", "overload", "no_type_check",
            "assert_never", "assert_type", "get_args", "get_origin", "is_typeddict",
            "dataclass_transform", "TYPE_CHECKING",
        ),
    ),
    "unicodedata": (
        "normalise names and accents before matching",
        ("normalize", "is_normalized", "category", "name", "lookup", "numeric", "digit",
         "decimal", "combining", "east_asian_width", "bidirectional", "mirrored",
         "decomposition", "unidata_version"),
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
        ("uuid3", "uuid4", "uuid5", "UUID", "NAMESPACE_DNS", "NAMESPACE_URL", "NAMESPACE_OID", "NAMESPACE_X500"),
    ),
    "zoneinfo": (
        "IANA time zones with DST, from the tzdata package; the template loads every zone "
        "before confinement, so ZoneInfo(key) costs no I/O",
        # ZoneInfo.from_file, no_cache and clear_cache are refused (files, and the shared
        # zone cache)
        ("ZoneInfo", "ZoneInfoNotFoundError", "available_timezones"),
    ),
}

# ---------------------------------------------------------------------------------------
# Members left out on purpose: module -> {member: why, and what to use instead}. Shown to
# the customer when a tool imports or reads one. A member missing from both tables is
# simply not there ("has no attribute ... available to tools").
# ---------------------------------------------------------------------------------------

_NO_FILES = "tools have no file system"
_SYNC = "tools are synchronous"
_STDOUT = "it prints to the process's stdout, which nobody reads; log the text with log.info()"

LEFT_OUT: dict[str, dict[str, str]] = {
    "abc": dict.fromkeys(("abstractclassmethod", "abstractstaticmethod", "abstractproperty"), "deprecated since Python 3.3; stack @classmethod, @staticmethod or @property over @abstractmethod"),
    "base64": {
        "encode": "it reads and writes file objects; use base64.b64encode() on bytes",
        "decode": "it reads and writes file objects; use base64.b64decode() on bytes",
    },
    "calendar": {
        "TextCalendar": "its pr* methods print to the process's stdout; use calendar.Calendar or monthcalendar()",
        "HTMLCalendar": "use calendar.Calendar or monthcalendar() and build the markup yourself",
        "LocaleTextCalendar": "it switches the process's locale; use day_name/month_name",
        "LocaleHTMLCalendar": "it switches the process's locale; use day_name/month_name",
        "prmonth": _STDOUT, "prcal": _STDOUT, "prweek": _STDOUT,
        "setfirstweekday": "it changes calendar's state for the whole process; use calendar.Calendar(firstweekday=6)",
    },
    "contextlib": {
        "redirect_stdout": "it swaps the process's real stdout; print() already writes to the call's log",
        "redirect_stderr": "it swaps the process's real stderr; log with log.error() or logging",
        "chdir": f"{_NO_FILES} and no working directory",
        "asynccontextmanager": _SYNC, "AsyncExitStack": _SYNC, "aclosing": _SYNC,
        "AbstractAsyncContextManager": _SYNC,
    },
    "csv": {
        "field_size_limit": "a setting of the whole process",
        "register_dialect": "a registry of the whole process; pass the dialect class or its options to csv.reader/writer",
        "unregister_dialect": "a registry of the whole process",
    },
    "dateutil.tz": {
        "tzfile": "it reads a file by path; use dateutil.tz.gettz(name), served from the bundled tzdata",
        "tzical": f"it reads iCalendar files, and {_NO_FILES}; use dateutil.tz.gettz(name)",
        "tzwin": "the Windows registry; use dateutil.tz.gettz(name)",
        "tzwinlocal": "the Windows registry; use dateutil.tz.gettz(name)",
    },
    "email.utils": {
        "make_msgid": "it looks the host name up through DNS; build an id with uuid.uuid4()",
    },
    "enum": {
        "EnumType": "the metaclass builds classes around the class guard; subclass Enum in a class statement",
        "EnumMeta": "the metaclass builds classes around the class guard; subclass Enum in a class statement",
        "global_enum": "it writes into a module's globals through sys.modules",
    },
    "hashlib": {
        "new": "it looks algorithms up by name in OpenSSL, which may read its configuration files; "
        "call the constructor by name: hashlib.sha256(data)",
        "pbkdf2_hmac": "a CPU sink with no use in a tool; sign with hmac, hash with hashlib.sha256",
        "scrypt": "a CPU sink with no use in a tool; sign with hmac, hash with hashlib.sha256",
        "file_digest": f"{_NO_FILES}; hash bytes with hashlib.sha256(data)",
    },
    "io": dict.fromkeys(("open", "open_code", "FileIO", "BufferedReader", "BufferedWriter", "BufferedRandom", "BufferedRWPair", "TextIOWrapper"), f"{_NO_FILES}; use io.StringIO or io.BytesIO"),
    "json": {
        "dump": "it writes to a file object; use json.dumps()",
        "load": "it reads a file object; use json.loads()",
    },
    "logging": {
        "FileHandler": f"{_NO_FILES}; every record already goes to the call's logs",
        "Handler": "custom handlers are not available; every record already goes to the call's logs",
        "config": "logging.config builds objects from dotted paths; records go to the call's logs, "
        "and logger.setLevel() sets levels",
        "handlers": "handlers that write files, sockets or streams are not available; "
        "every record already goes to the call's logs",
        "root": "the root logger is logging.getLogger()",
        "setLoggerClass": "loggers are the platform's; use logging.getLogger(name)",
        "getLoggerClass": "loggers are the platform's; use logging.getLogger(name)",
        "LogRecord": "records are the platform's; log with logger.info() and friends",
        "makeLogRecord": "records are the platform's; log with logger.info() and friends",
        "captureWarnings": "warnings are not routed through logging in tools",
        "shutdown": "the platform flushes the call's logs itself",
    },
    "operator": dict.fromkeys(("setitem", "delitem", "iadd", "iand", "iconcat", "ifloordiv", "ilshift", "imatmul", "imod", "imul", "ior", "ipow", "irshift", "isub", "itruediv", "ixor"), "it writes around the write guard; write obj[k] = v, del obj[k] or x += y"),
    "phonenumbers": {
        "geocoder": "a large data set left out of the runtime",
        "carrier": "a large data set left out of the runtime",
        "timezone": "a large data set left out of the runtime",
        "enable_pattern_cache": "a setting of the whole process; patterns are cached already",
    },
    "random": {
        "getstate": "the generator's state is the whole process's; use random.Random(seed) for a repeatable sequence",
        "setstate": "the generator's state is the whole process's; use random.Random(seed) for a repeatable sequence",
    },
    "re": {
        "purge": "a cache of the whole process",
        "template": "deprecated and undocumented; use re.compile()",
        "DEBUG": "it prints the compiled pattern to the process's stdout, which nobody reads",
        "LOCALE": "it makes matching depend on the process's locale; str patterns are Unicode-aware already",
        "L": "it makes matching depend on the process's locale; str patterns are Unicode-aware already",
    },
    "requests": {
        "Session": "there are no sessions; call requests.get/post/... directly (the platform sends each request)",
        "PreparedRequest": "call requests.get/post/... directly (the platform sends each request)",
        "codes": "compare response.status_code with numbers, or use response.ok",
    },
    "string": {
        "Formatter": "its format() and get_field() walk attributes outside the sandbox's checks; "
        "use str.format, which is checked",
    },
    "time": {
        "tzset": "it re-reads TZ from the process's environment; use zoneinfo.ZoneInfo(key)",
        "clock_settime": "the system clock", "clock_settime_ns": "the system clock",
        "thread_time": "use time.process_time()", "thread_time_ns": "use time.process_time_ns()",
    },
    "typing": {
        "get_type_hints": "it evaluates string annotations as code, outside the sandbox's compiler; "
        "read annotations with fn.__annotations__",
        "ForwardRef": "it evaluates a string as code, outside the sandbox's compiler; annotate with the class itself",
        "reveal_type": "it writes to the process's stderr; log the type with log.info(type(x).__name__)",
    },
    "uuid": {
        "uuid1": "it reads the host's hardware address; use uuid.uuid4()",
        "getnode": "it reads the host's hardware address; use uuid.uuid4()",
    },
    "zoneinfo": {
        "reset_tzpath": "zones come from the bundled tzdata, never from a path; use ZoneInfo(key)",
        "TZPATH": "zones come from the bundled tzdata, never from a path; use ZoneInfo(key)",
    },
}
# fmt: on
