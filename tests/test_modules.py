"""The modules customers reach for (issue 14), through the real confined pool.

Each realistic use runs twice: under plain CPython (the module loaded as an importer
would load it, with the real standard library) and as a tool in a confined child. The
tool's return value must be the same: that is the expectation, computed here, never
written by hand. Then the refusals: each door a view leaves out or guards, with the
message the tool sees.

Security tests here never skip.
"""

from __future__ import annotations

import json
import sys
import types

import pytest

from sandbox.compiler import compile_bundle
from sandbox.errors import CompileFailure
from sandbox.result import Status
from tests.conftest import run_source

# ---------------------------------------------------------------------------------------
# realistic uses: the same answer as plain CPython
# ---------------------------------------------------------------------------------------

USES = {
    "opening hours across DST in New York and London": """
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

SITES = {"nyc": "America/New_York", "lon": "Europe/London"}
HOURS = (9, 17)

def is_open(site, instant):
    local = instant.astimezone(ZoneInfo(SITES[site]))
    return HOURS[0] <= local.hour < HOURS[1] and local.weekday() < 5, local.isoformat(), local.tzname(), local.fold

def tool(conv):
    out = []
    for day in ("2026-03-06", "2026-03-09", "2026-03-27", "2026-03-30", "2026-10-30", "2026-11-02"):
        noon_utc = datetime.fromisoformat(day + "T13:30:00+00:00")
        out.append([is_open(site, noon_utc) for site in ("nyc", "lon")])
    ambiguous = datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=ZoneInfo("America/New_York"))
    return out, ambiguous.utcoffset().total_seconds(), (ambiguous + timedelta(hours=1)).isoformat()
""",
    "datetime.now with a zone and astimezone": """
from datetime import datetime, timezone
from zoneinfo import ZoneInfo, available_timezones

def tool(conv):
    now = datetime.now(ZoneInfo("Europe/London"))
    same = now.astimezone(timezone.utc).astimezone(ZoneInfo("Europe/London"))
    return now == same, now.tzinfo is ZoneInfo("Europe/London"), "America/New_York" in available_timezones()
""",
    "a sorted dataclass booking": """
from dataclasses import dataclass, field, asdict, replace

@dataclass(order=True, frozen=True)
class Booking:
    when: str
    party: int
    name: str = field(compare=False)
    notes: list = field(default_factory=list, compare=False, repr=False)

    def __post_init__(self):
        if self.party < 1:
            raise ValueError("party must be at least 1")

def tool(conv):
    bookings = [Booking("19:30", 2, "Ann"), Booking("18:00", 4, "Bob"), Booking("19:30", 1, "Cy")]
    ordered = sorted(bookings)
    moved = replace(ordered[0], when="18:15")
    try:
        Booking("20:00", 0, "Zed")
    except ValueError as error:
        refused = str(error)
    return [asdict(b) for b in ordered], repr(moved), refused
""",
    "an Enum of intents": """
from enum import Enum, StrEnum, IntEnum, Flag, auto, unique

@unique
class Intent(StrEnum):
    BOOK = auto()
    CANCEL = auto()
    HOURS = "opening_hours"

class Priority(IntEnum):
    LOW = 1
    URGENT = 3

class Feature(Flag):
    VOICE = auto()
    SMS = auto()

def route(text):
    for intent in Intent:
        if intent.value.replace("_", " ") in text:
            return intent
    return None

def tool(conv):
    found = route("what are your opening hours")
    return (found, found.name, Intent("book") is Intent.BOOK, [i.value for i in Intent], Priority(3).name,
            sorted([Priority.URGENT, Priority.LOW]), str(Feature.VOICE | Feature.SMS), Intent.__members__["CANCEL"])
""",
    "a heapq waitlist": """
import heapq
from itertools import count

def tool(conv):
    waitlist, order = [], count()
    for party, size, priority in (("Ann", 2, 2), ("Bob", 6, 1), ("Cy", 2, 1), ("Di", 3, 3)):
        heapq.heappush(waitlist, (priority, next(order), party, size))
    seated = [heapq.heappop(waitlist)[2] for _ in range(2)]
    return seated, heapq.nsmallest(1, waitlist), len(waitlist)
""",
    "E.164 from national numbers of three regions": """
import phonenumbers
from phonenumbers import PhoneNumberFormat, NumberParseException

def tool(conv):
    out = []
    for raw, region in (("(212) 555-0147", "US"), ("020 7946 0018", "GB"), ("030 901820", "DE"), ("07700 900123", "GB")):
        number = phonenumbers.parse(raw, region)
        out.append((phonenumbers.format_number(number, PhoneNumberFormat.E164),
                    phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL),
                    phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL),
                    phonenumbers.is_valid_number(number), phonenumbers.region_code_for_number(number),
                    phonenumbers.number_type(number)))
    try:
        phonenumbers.parse("not a number", "US")
    except NumberParseException as error:
        out.append(str(error))
    return out
""",
    "'Tuesday 3pm' with dateutil": """
from datetime import datetime
from dateutil import parser, tz
from dateutil.relativedelta import relativedelta, TU
from dateutil.rrule import rrule, WEEKLY, TU as RTU

def tool(conv):
    today = datetime(2026, 12, 7, 10, 0)  # a Monday
    said = parser.parse("Tuesday 3pm", default=today)
    next_tuesday = today + relativedelta(weekday=TU(+1), hour=15, minute=0)
    series = list(rrule(WEEKLY, byweekday=RTU, count=3, dtstart=next_tuesday))
    london = tz.gettz("Europe/London")
    aware = next_tuesday.replace(tzinfo=london)
    return (said.isoformat(), next_tuesday.isoformat(), [d.date().isoformat() for d in series],
            aware.utcoffset().total_seconds(), tz.gettz("Nowhere/Land") is None, parser.isoparse("2026-12-08T15:00").hour)
""",
    "logging at every level": """
import logging

logging.basicConfig(level=logging.INFO)
logger = logging.getLogger(__name__)

def tool(conv):
    logger.debug("debug %s", 1)
    logger.info("booked %s for %d", "Ann", 2)
    child = logger.getChild("api")
    child.warning("slow: %(ms)d ms", {"ms": 900})
    return logger.name, child.name, logger.isEnabledFor(logging.DEBUG) or True, logging.getLevelName(logging.WARNING)
""",
    "csv with io.StringIO": """
import csv
import io

def tool(conv):
    rows = list(csv.DictReader(io.StringIO("sku,qty\\nA1,2\\nB2,5\\n")))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\\n")
    writer.writerow(["sku", "total"])
    writer.writerows([(r["sku"], int(r["qty"]) * 10) for r in rows])
    return rows, out.getvalue()
""",
    "copy, operator and functools on the tool's own objects": """
import copy
import functools
import operator

class Order:
    def __init__(self, ref, lines):
        self.ref = ref
        self.lines = lines

    @functools.cached_property
    def total(self):
        return functools.reduce(operator.add, (qty * price for qty, price in self.lines), 0)

def tool(conv):
    a = Order("A1", [(2, 5), (1, 3)])
    b = copy.deepcopy(a)
    b.lines.append((1, 100))
    orders = sorted([b, a], key=operator.attrgetter("total"))
    pick = operator.itemgetter(0, 2)
    return [o.ref for o in orders], a.total, b.total, pick("xyz"), operator.methodcaller("upper")("a")
""",
    "typing at run time": """
from typing import NamedTuple, TypedDict, Protocol, Literal, Optional, Iterator, cast, get_args, runtime_checkable

class Slot(NamedTuple):
    hour: int
    free: bool = True

class Caller(TypedDict, total=False):
    name: str

@runtime_checkable
class Sized(Protocol):
    def size(self) -> int: ...

class Party:
    def size(self):
        return 4

def hours() -> Iterator[int]:
    yield from range(9, 12)

def tool(conv):
    kind: Literal["a", "b"] = cast(Literal["a", "b"], "a")
    caller: Caller = {"name": "Ann"}
    return Slot(9)._replace(free=False), caller, isinstance(Party(), Sized), list(hours()), get_args(Optional[int]), kind
""",
    "contextlib, fractions, decimal and statistics": """
import contextlib
import statistics
from decimal import Decimal, getcontext, localcontext, ROUND_HALF_UP
from fractions import Fraction

@contextlib.contextmanager
def step(log):
    log.append("start")
    try:
        yield len(log)
    finally:
        log.append("end")

def tool(conv):
    trail = []
    with step(trail) as n:
        trail.append(n)
    with contextlib.suppress(KeyError):
        {}["missing"]
    getcontext().prec = 10
    with localcontext() as ctx:
        ctx.prec = 4
        ctx.rounding = ROUND_HALF_UP
        third = Decimal(1) / Decimal(3)
    split = Fraction(100, 3)
    return trail, str(third), str(Decimal(2) / Decimal(3)), str(split), float(split * 3), statistics.median([3, 1, 2])
""",
    "text and data helpers": """
import base64, binascii, bisect, difflib, hashlib, hmac, html, ipaddress, secrets, textwrap, unicodedata
from email.utils import format_datetime, parsedate_to_datetime, parseaddr
from collections import Counter, ChainMap, deque
from collections.abc import Mapping
from numbers import Integral

def tool(conv):
    when = parsedate_to_datetime("Mon, 07 Dec 2026 10:00:00 +0000")
    token = secrets.token_hex(8)
    bands = [0, 10, 50, 100]
    return (format_datetime(when), parseaddr("Ann <ann@example.com>"), html.escape("<b>&</b>"),
            textwrap.shorten("a rather long utterance for the caller", 20), unicodedata.normalize("NFKD", "é") == "e\\u0301",
            difflib.get_close_matches("chiken", ["chicken", "kitchen", "chips"]), bisect.bisect(bands, 42),
            hmac.compare_digest(hmac.new(b"k", b"m", "sha256").hexdigest(), hmac.new(b"k", b"m", "sha256").hexdigest()),
            base64.b64encode(b"hi").decode(), binascii.hexlify(b"hi").decode(), hashlib.sha256(b"x").hexdigest()[:8],
            ipaddress.ip_address("10.0.0.7") in ipaddress.ip_network("10.0.0.0/24"), len(token), int(token, 16) >= 0,
            Counter("aab").most_common(1), dict(ChainMap({"a": 1}, {"b": 2})), list(deque([1, 2], maxlen=1)),
            isinstance({}, Mapping), isinstance(3, Integral))
""",
}


def run_in_cpython(source: str) -> object:
    """Run ``source`` as a module under plain CPython, as an importer would, and call tool()."""
    module = types.ModuleType("tool")
    sys.modules["tool"] = module
    try:
        exec(compile(source, "tool.py", "exec"), module.__dict__)
        return module.tool(None)
    finally:
        sys.modules.pop("tool", None)


def plain(value: object) -> object:
    """What a tool's value looks like once it is a result (JSON: tuples become lists)."""
    return json.loads(json.dumps(value, default=str))


@pytest.mark.parametrize("name", sorted(USES))
def test_realistic_use_runs_as_cpython_runs_it(pool, name):
    source = USES[name].replace("def tool(conv):", "def cpython_tool(conv):")
    expected = plain(run_in_cpython(source.replace("def cpython_tool(conv):", "def tool(conv):")))
    wrapped = USES[name] + "\n\ndef entry(conv):\n    import json\n    return {'content': json.dumps(tool(conv), default=str)}\n"
    result = run_source(pool, wrapped, "entry")
    assert result.status is Status.OK, result.error
    assert json.loads(result.action["content"]) == expected


def test_logging_records_reach_the_call_logs_at_every_level(pool):
    result = run_source(pool, USES["logging at every level"] + "\n\ndef entry(conv):\n    tool(conv)\n", "entry")
    assert result.status is Status.OK, result.error
    assert [(log["level"], log["message"]) for log in result.logs] == [
        ("debug", "debug 1"), ("info", "booked Ann for 2"), ("warning", "slow: 900 ms")]


def test_logging_exception_logs_the_customer_frames_redacted(pool):
    source = """
import logging
log_ = logging.getLogger("t")

def charge(key):
    raise ValueError("card declined for " + key)

def tool(conv):
    try:
        charge(conv.utils.get_secret("api_key"))
    except ValueError:
        log_.exception("charge failed")
    return "ok"
"""
    result = run_source(pool, source, secrets={"api_key": "sk-live-123456"})
    assert result.status is Status.OK, result.error
    (record,) = result.logs
    assert record["level"] == "error"
    assert record["message"].splitlines() == [
        "charge failed", "Traceback (most recent call last):",
        '  File "tool.py", line 10, in tool', '    charge(conv.utils.get_secret("api_key"))',
        '  File "tool.py", line 6, in charge', '    raise ValueError("card declined for " + key)',
        "ValueError: card declined for [REDACTED]"]


# ---------------------------------------------------------------------------------------
# the doors each view leaves out or guards, with the message the tool sees
# ---------------------------------------------------------------------------------------

REFUSED_AT_COMPILE = {
    "zoneinfo.reset_tzpath": ("from zoneinfo import reset_tzpath\n", "'reset_tzpath' cannot be imported from 'zoneinfo'"),
    "zoneinfo.TZPATH": ("from zoneinfo import TZPATH\n", "'TZPATH' cannot be imported from 'zoneinfo'"),
    "dateutil.tz.tzfile": ("from dateutil.tz import tzfile\n", "'tzfile' cannot be imported from 'dateutil.tz'"),
    "logging.FileHandler": ("from logging import FileHandler\n", "'FileHandler' cannot be imported from 'logging'"),
    "logging.Handler": ("from logging import Handler\n", "'Handler' cannot be imported from 'logging'"),
    "logging.config": ("import logging.config\n", "import of 'logging.config' is not allowed"),
    "logging.handlers": ("import logging.handlers\n", "import of 'logging.handlers' is not allowed"),
    "typing.get_type_hints": ("from typing import get_type_hints\n",
                              "'get_type_hints' cannot be imported from 'typing' (not available to tools: it "
                              "evaluates string annotations as code"),
    "typing.ForwardRef": ("from typing import ForwardRef\n", "'ForwardRef' cannot be imported"),
    "contextlib.redirect_stdout": ("from contextlib import redirect_stdout\n",
                                   "'redirect_stdout' cannot be imported from 'contextlib' (not available to tools: "
                                   "it swaps the process's real stdout; print() already writes to the call's log)"),
    "contextlib.chdir": ("from contextlib import chdir\n", "'chdir' cannot be imported"),
    "io.open": ("from io import open\n", "'open' cannot be imported from 'io'"),
    "io.FileIO": ("from io import FileIO\n", "'FileIO' cannot be imported from 'io'"),
    "csv.field_size_limit": ("from csv import field_size_limit\n", "'field_size_limit' cannot be imported"),
    "email.utils.make_msgid": ("from email.utils import make_msgid\n", "'make_msgid' cannot be imported"),
    "enum.EnumMeta": ("from enum import EnumMeta\n", "'EnumMeta' cannot be imported from 'enum'"),
    "enum.global_enum": ("from enum import global_enum\n", "'global_enum' cannot be imported"),
    "operator.setitem": ("from operator import setitem\n", "'setitem' cannot be imported from 'operator'"),
    "phonenumbers.geocoder": ("from phonenumbers import geocoder\n", "'geocoder' cannot be imported"),
    "string.Formatter": ("from string import Formatter\n", "'Formatter' cannot be imported from 'string'"),
    "email (the package)": ("import email.message\n", "import of 'email.message' is not allowed"),
}


@pytest.mark.parametrize("name", sorted(REFUSED_AT_COMPILE))
def test_view_doors_are_refused_at_compile_time(name):
    source, words = REFUSED_AT_COMPILE[name]
    with pytest.raises(CompileFailure) as info:
        compile_bundle({"tool.py": source})
    assert words in str(info.value)


REFUSED_AT_RUN_TIME = {
    "ZoneInfo.from_file": (
        "from zoneinfo import ZoneInfo\ndef tool(conv):\n    ZoneInfo.from_file(None)\n",
        "TypeError", "ZoneInfo.from_file is not available to tools (there are no files)"),
    "ZoneInfo with a relative path": (
        "from zoneinfo import ZoneInfo\ndef tool(conv):\n    ZoneInfo('../../etc/passwd')\n",
        "ValueError", "ZoneInfo keys must refer to subdirectories of TZPATH"),
    "ZoneInfo with an absolute path": (
        "from zoneinfo import ZoneInfo\ndef tool(conv):\n    ZoneInfo('/etc/localtime')\n",
        "ValueError", "ZoneInfo keys may not be absolute paths"),
    "ZoneInfo of a name that is not a zone": (
        "from zoneinfo import ZoneInfo\ndef tool(conv):\n    ZoneInfo('Mars/Olympus_Mons')\n",
        "ZoneInfoNotFoundError", "No time zone found with key Mars/Olympus_Mons"),
    "ZoneInfo.clear_cache": (
        "from zoneinfo import ZoneInfo\ndef tool(conv):\n    ZoneInfo.clear_cache()\n",
        "TypeError", "ZoneInfo.clear_cache is not available to tools"),
    "a ZoneInfo subclass": (
        "from zoneinfo import ZoneInfo\nclass Mine(ZoneInfo):\n    pass\ndef tool(conv):\n    pass\n",
        "TypeError", "zoneinfo.ZoneInfo cannot be subclassed in tools"),
    "gettz given a path": (
        "from dateutil import tz\ndef tool(conv):\n    return {'content': repr(tz.gettz('/etc/passwd'))}\n",
        None, "None"),
    "logging.basicConfig(filename=...)": (
        "import logging\ndef tool(conv):\n    logging.basicConfig(filename='/tmp/x.log')\n",
        "ValueError", "logging.basicConfig(filename=...) is not available to tools: there are no files"),
    "a handler that is not a NullHandler": (
        "import logging\nclass Sink:\n    pass\ndef tool(conv):\n    logging.getLogger().addHandler(Sink())\n",
        "TypeError", "logging handlers that write files or streams are not available to tools"),
    "a logger's private manager": (
        "import logging\ndef tool(conv):\n    return logging.getLogger()._manager\n",
        "AttributeError", "readable only on the tool's own classes and objects"),
    "copy of conv": (
        "import copy\ndef tool(conv):\n    copy.copy(conv)\n",
        "TypeError", "Conversation objects belong to the runtime and cannot be copied"),
    "deepcopy of a structure holding conv.state": (
        "import copy\ndef tool(conv):\n    copy.deepcopy({'s': conv.state})\n",
        "TypeError", "State objects belong to the runtime and cannot be copied"),
    "attrgetter to a door": (
        "import operator\ndef tool(conv):\n    operator.attrgetter('__class__.__mro__')(conv)\n",
        "AttributeError", "attribute '__mro__' is not available to tools"),
    "attrgetter to a runtime private": (
        "import operator\ndef tool(conv):\n    operator.attrgetter('utils._secrets')(conv)\n",
        "AttributeError", "readable only on the tool's own classes and objects"),
    "wraps with a custom assigned": (
        "import functools\ndef f():\n    pass\ndef tool(conv):\n    functools.wraps(f, assigned=('__code__',))(tool)\n",
        "TypeError", "functools.wraps/update_wrapper take only the default assigned= and updated= in tools"),
    "make_dataclass with a hook member": (
        "import dataclasses\ndef tool(conv):\n    dataclasses.make_dataclass('X', [], namespace={'__del__': print})\n",
        "TypeError", "defining '__del__' is not allowed"),
    "make_dataclass with a name that is not an identifier": (
        "import dataclasses\ndef tool(conv):\n    dataclasses.make_dataclass('X', ['a b'])\n",
        "TypeError", "field names must be identifiers"),
    "ABCMeta called directly": (
        "from abc import ABCMeta\ndef tool(conv):\n    ABCMeta('X', (), {})\n",
        "TypeError", "ABCMeta(...) cannot build classes in tools; write a class statement"),
    "register on a standard ABC": (
        "from collections.abc import Mapping\nclass Fake:\n    pass\ndef tool(conv):\n    Mapping.register(Fake)\n",
        "AttributeError", "register() is available only on the tool's own ABCs"),
    "a member left out, read from the view": (
        "import contextlib\ndef tool(conv):\n    contextlib.redirect_stdout\n",
        "AttributeError", "module 'contextlib' has no attribute 'redirect_stdout' available to tools: it swaps the "
        "process's real stdout; print() already writes to the call's log"),
    "hashlib.new, read from the view": (
        "import hashlib\ndef tool(conv):\n    hashlib.new('sha256')\n",
        "AttributeError", "call the constructor by name: hashlib.sha256(data)"),
    "typing.get_type_hints, read from the view": (
        "import typing\ndef tool(conv):\n    typing.get_type_hints(tool)\n",
        "AttributeError", "read annotations with fn.__annotations__"),
    "a mutable module table": (
        "import phonenumbers\ndef tool(conv):\n    phonenumbers.COUNTRY_CODE_TO_REGION_CODE[1] = ('XX',)\n",
        "TypeError", "cannot assign to or delete from 'mappingproxy' objects: they are read-only to tools"),
}


@pytest.mark.parametrize("name", sorted(REFUSED_AT_RUN_TIME))
def test_view_doors_are_refused_at_run_time(pool, name):
    source, kind, words = REFUSED_AT_RUN_TIME[name]
    result = run_source(pool, source)
    if kind is None:
        assert result.status is Status.OK, result.error
        assert result.action["content"] == words
        return
    assert result.status is Status.RUNTIME_ERROR, result
    assert result.error.kind == kind, result.error
    assert words in result.error.message, result.error.message
