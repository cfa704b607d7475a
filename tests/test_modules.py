"""The modules customers reach for (issue 14), through the real confined pool.

Each realistic use runs twice: under plain CPython (the module loaded as an importer
would load it, with the real standard library) and as a tool in a confined child. The
tool's return value must be the same: that is the expectation, computed here, never
written by hand. The refusals, each door a view leaves out or guards, are in
tests/test_module_doors.py.

Security tests here never skip.
"""

from __future__ import annotations

import json
import sys
import types

import pytest

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
    "singledispatch with postponed annotations": """
from __future__ import annotations

import functools
from dataclasses import dataclass

@dataclass
class Booking:
    ref: str

@functools.singledispatch
def describe(value) -> str:
    return "thing"

@describe.register
def _(value: int) -> str:
    return f"number {value}"

@describe.register
def _(value: str | None) -> str:
    return f"text {value!r}"

@describe.register
def _(value: Booking) -> str:
    return f"booking {value.ref}"

class Formatter:
    @functools.singledispatchmethod
    def show(self, value):
        return "?"

    @show.register
    def _(self, value: float):
        return f"{value:.1f}"

def tool(conv):
    return ([describe(x) for x in (1, "a", None, Booking("B7"), 2.5)], Formatter().show(2.25), Formatter().show([]))
""",
    "deepcopy with the tool's own __deepcopy__": """
import copy
import calendar

class Node:
    def __init__(self, name, children=(), tags=None):
        self.name = name
        self.children = list(children)
        self.tags = tags

    def __deepcopy__(self, memo):
        twin = Node.__new__(Node)
        for key, value in self.__dict__.items():
            setattr(twin, key, copy.deepcopy(value, memo))
        return twin

def tool(conv):
    shared = ["vip"]
    tree = Node("root", [Node("a", tags=shared), Node("b", [Node("c", tags=shared)])])
    twin = copy.deepcopy({"tree": tree, "months": calendar.month_name, "nums": [1, [2, 3]]})
    copied = twin["tree"]
    return (copied is not tree, copied.children[0].tags is copied.children[1].children[0].tags,
            copied.children[0].tags is not shared, twin["months"][1], twin["nums"])
""",
    "recurrences with a TZID and a customised date parser": """
from datetime import datetime
from dateutil import parser, tz
from dateutil.rrule import rrulestr

class Words(parser.parserinfo):
    JUMP = parser.parserinfo.JUMP + ["at", "by"]
    MONTHS = [("Jan", "Janvier"), ("Feb", "Fevrier")] + list(parser.parserinfo.MONTHS[2:])

def tool(conv):
    rule = rrulestr("DTSTART;TZID=Europe/London:20260301T090000\\nRRULE:FREQ=WEEKLY;COUNT=3")
    when = [d.isoformat() for d in rule]
    said = parser.parse("3 Fevrier 2026 at 10am", parserinfo=Words())
    plain = parser.parse("5 March 2026", parser.parserinfo())
    return when, rule[0].tzinfo is tz.gettz("Europe/London"), said.isoformat(), plain.month, len(Words.JUMP)
""",
    "logging set up as scripts do": """
import logging

handler = logging.StreamHandler()
handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
handler.setLevel(logging.INFO)
logger = logging.getLogger("booking")
logger.addHandler(handler)
logger.setLevel(logging.INFO)
logging.basicConfig(level=logging.INFO, handlers=[logging.StreamHandler()], format="%(message)s")

def tool(conv):
    logger.info("booked %s", "Ann")
    return logger.name, logger.level, len(logger.handlers) >= 1
""",
    "private state on subclasses of the standard library's bases": """
from collections import UserDict
from collections.abc import Mapping
from enum import Enum

class Cart(UserDict):
    def __init__(self):
        super().__init__()
        self._total = 0

    def add(self, sku, price):
        self[sku] = price
        self._total += price
        return self._total

class Registry(Mapping):
    def __init__(self, items):
        self._items = dict(items)

    def __getitem__(self, key):
        return self._items[key]

    def __iter__(self):
        return iter(self._items)

    def __len__(self):
        return len(self._items)

class Size(Enum):
    SMALL = ("S", 1)
    LARGE = ("L", 3)

    def __init__(self, code, weight):
        self._code = code
        self.weight = weight

class BookingError(Exception):
    def __init__(self, ref):
        super().__init__(f"booking {ref} failed")
        self._ref = ref

class Client:
    def __init__(self, token):
        self.__token = token

    def masked(self):
        return self.__token[:2] + "**"

def tool(conv):
    cart = Cart()
    cart.add("A", 3)
    try:
        raise BookingError("B1")
    except BookingError as error:
        failed = error._ref
    return (cart.add("B", 4), dict(Registry({"a": 1})), Size.LARGE._code, Size.SMALL._value_, failed,
            Client("secret").masked())
""",
    "re flags, UserString and decimal templates": """
import re
from collections import UserString
from decimal import Decimal, BasicContext, ExtendedContext, DefaultContext, localcontext, setcontext, getcontext

class Tag(UserString):
    pass

def tool(conv):
    pattern = re.compile(r"^book (\\w+)$", re.IGNORECASE | re.MULTILINE)
    found = pattern.findall("Book table\\nbook room")
    flags = re.sub(r"a", "b", "AAa", 0, re.I), re.split(r",", "a,b", 1, 0), re.search("x", "X", 2) is not None
    text = Tag("{0} for {party}").format("Ann", party=2), UserString("{x}").format_map({"x": 1})
    with localcontext(ExtendedContext) as ctx:
        third = str(Decimal(1) / Decimal(3))
    setcontext(BasicContext)
    basic = getcontext().prec
    getcontext().prec = 12
    setcontext(DefaultContext)
    return found, flags, text, third, basic, getcontext().prec, BasicContext.prec, DefaultContext.prec
""",
    "functools and typing decorators on the tool's own code": """
import functools
import typing

@functools.lru_cache(maxsize=None)
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)

@typing.final
class Money:
    @typing.final
    def cents(self):
        return 1

@typing.no_type_check
class Loose:
    def f(self, x: "not a type"):
        return x

@typing.dataclass_transform()
def model(cls):
    return cls

@model
class Order:
    pass

def tool(conv):
    return fib(20), fib.__wrapped__.__name__, fib.__wrapped__(10), Money().cents(), Loose().f(2), Order.__name__
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
    wrapped = (
        USES[name]
        + "\n\ndef entry(conv):\n    import json\n    return {'content': json.dumps(tool(conv), default=str)}\n"
    )
    result = run_source(pool, wrapped, "entry")
    assert result.status is Status.OK, result.error
    assert json.loads(result.action["content"]) == expected


def test_logging_records_reach_the_call_logs_at_every_level(pool):
    result = run_source(pool, USES["logging at every level"] + "\n\ndef entry(conv):\n    tool(conv)\n", "entry")
    assert result.status is Status.OK, result.error
    assert [(log["level"], log["message"]) for log in result.logs] == [
        ("debug", "debug 1"),
        ("info", "booked Ann for 2"),
        ("warning", "slow: 900 ms"),
    ]


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
        "charge failed",
        "Traceback (most recent call last):",
        '  File "tool.py", line 10, in tool',
        '    charge(conv.utils.get_secret("api_key"))',
        '  File "tool.py", line 6, in charge',
        '    raise ValueError("card declined for " + key)',
        "ValueError: card declined for [REDACTED]",
    ]
