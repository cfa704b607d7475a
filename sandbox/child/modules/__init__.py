"""The members of module views that are toolpool's own: guarded stand-ins and virtual modules.

Runs in the template (``preload``) and in the confined child. ``sandbox/child/views.py``
builds a module view from the real module's members the policy names; for the names
listed here it takes these objects instead (``standins``):

* ``logging`` is entirely toolpool's (``toollogging.py``), bound to the namespace's
  context so records reach the current call's log;
* ``zoneinfo`` and ``dateutil.tz.gettz`` serve the bundled tzdata (``zones.py``);
* ``copy`` refuses the runtime's objects (``copying.py``); the class factories build
  classes that are the tool's (``factories.py``); ``decimal``'s context templates are
  read-only copies (``shared.py``);
* the functions of ``wrappers.py`` replace members that would step around the guards.

``preload`` makes, before confinement, the runtime's own patches of standard library
modules (``copy``, ``dataclasses``, ``enum``, ``dateutil``, read-only class tables), loads
the data these modules would otherwise read from disk on first use in the child (every
tzdata zone and every phonenumbers region), and warms what costs more than a
millisecond on first use in a fresh child (``warm``).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType
from typing import Any

import phonenumbers as _phonenumbers

from sandbox.child.modules import copying, factories, shared, toollogging, wrappers, zones

VIRTUAL: frozenset[str] = frozenset({"logging"})
"""Modules served entirely by stand-ins: the real module is never imported for a tool."""

_EMPTY: Mapping[str, Any] = MappingProxyType({})


def standins(module: str, context: Any) -> Mapping[str, Any]:
    """The stand-in members of ``module`` for one tool namespace (``context`` carries its
    attribute guard and the current call's log)."""
    if module == "logging":
        return toollogging.module_members(lambda: context)
    if module == "operator":
        return {
            "attrgetter": wrappers.make_attrgetter(context.guard),
            "methodcaller": wrappers.make_methodcaller(context.guard),
        }
    if module == "functools":
        singledispatch, singledispatchmethod = wrappers.make_singledispatch(context.guard)
        return {**_STATIC["functools"], "singledispatch": singledispatch, "singledispatchmethod": singledispatchmethod}
    return _STATIC.get(module, _EMPTY)


_STATIC: Mapping[str, Mapping[str, Any]] = MappingProxyType(
    {
        "functools": MappingProxyType(
            {
                "wraps": wrappers.wraps,
                "update_wrapper": wrappers.update_wrapper,
                "total_ordering": wrappers.total_ordering,
            }
        ),
        "copy": MappingProxyType({"copy": copying.copy, "deepcopy": copying.deepcopy}),
        "collections": MappingProxyType({"namedtuple": factories.namedtuple}),
        "typing": MappingProxyType(
            {
                "NamedTuple": factories.NamedTuple,
                "get_origin": wrappers.get_origin,
                "get_args": wrappers.get_args,
                "final": wrappers.final,
                "no_type_check": wrappers.no_type_check,
                "dataclass_transform": wrappers.dataclass_transform,
                "runtime_checkable": wrappers.runtime_checkable,
            }
        ),
        "dataclasses": MappingProxyType({"dataclass": factories.dataclass, "make_dataclass": factories.make_dataclass}),
        "abc": MappingProxyType({"ABCMeta": wrappers.ABC_META, "abstractmethod": wrappers.abstractmethod}),
        "re": MappingProxyType(wrappers.RE_FUNCTIONS),
        "decimal": shared.DECIMAL_MEMBERS,
        "zoneinfo": MappingProxyType({"ZoneInfo": zones.ZoneInfo, "available_timezones": zones.available_timezones}),
        "dateutil.tz": MappingProxyType({"gettz": zones.gettz}),
        # the library's own table, read-only: a tool must not rewrite how numbers resolve
        "phonenumbers": MappingProxyType(
            {
                "COUNTRY_CODE_TO_REGION_CODE": MappingProxyType(_phonenumbers.COUNTRY_CODE_TO_REGION_CODE),
                "SUPPORTED_REGIONS": frozenset(_phonenumbers.SUPPORTED_REGIONS),
            }
        ),
    }
)


# Zones tools name most; building the first dateutil zone also runs, once, the code every
# later one needs (about 1.4 ms in a fresh child), each further zone costs about 0.1 ms
# and 9 KB, so only these are built ahead.
_WARM_ZONES = (
    "UTC",
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "Australia/Sydney",
    "Asia/Kolkata",
)


def preload() -> None:
    """Make the runtime's patches, load what these modules read from disk lazily, and warm
    what is slow on first use. Call before confinement."""
    factories.guard_enum_functional_api()
    factories.guard_dataclass_fields()
    copying.guard_deepcopy_memo()
    shared.freeze_class_tables()
    zones.preload(warm=_WARM_ZONES)
    from phonenumbers.phonemetadata import PhoneMetadata

    PhoneMetadata.load_all()
    _warm_phonenumbers()
    _warm_dateutil()


def _warm_phonenumbers() -> None:
    """Compile, once in the template, the patterns phonenumbers compiles on first use (1-4 ms
    per region and per matcher in a fresh child): every region's patterns for parsing,
    validating, typing and formatting its example numbers, and the matcher's. phonenumbers'
    own pattern cache keeps them all (the re module's keeps 512); about 130 ms and 1.2 MB
    of the template's memory, shared with every child."""
    from phonenumbers import re_util

    re_util.enable_pattern_cache()
    with _re_cache_kept(lambda key: key[1] in re_util._COMPILED_PATTERNS):  # type: ignore[attr-defined]  # private to phonenumbers
        _warm_phonenumber_patterns()


@contextlib.contextmanager
def _re_cache_kept(is_elsewhere: Callable[[Any], bool]) -> Iterator[None]:
    """Keep the ``re`` module's own cache (512 patterns, oldest dropped first) as it was
    while phonenumbers compiles its 1,700 patterns, which it keeps in a cache of its own:
    otherwise they would push out every pattern compiled before them (dateutil's, the
    tools' own libraries'), to be compiled again in each child. Patterns compiled on the
    way that live nowhere else are kept while there is room."""
    cache, limit = getattr(re, "_cache", None), getattr(re, "_MAXCACHE", None)
    if type(cache) is not dict or type(limit) is not int:
        yield  # another Python's re: nothing to keep
        return
    before = dict(cache)
    re._MAXCACHE = 1 << 30  # type: ignore[attr-defined]  # private, absent from typeshed
    try:
        yield
    finally:
        re._MAXCACHE = limit  # type: ignore[attr-defined]  # private, absent from typeshed
        added = [(key, value) for key, value in cache.items() if key not in before and not is_elsewhere(key)]
        cache.clear()
        cache.update(before)
        cache.update(added[: max(limit - len(before), 0)])


def _warm_phonenumber_patterns() -> None:
    number_types = (_phonenumbers.PhoneNumberType.FIXED_LINE, _phonenumbers.PhoneNumberType.MOBILE)
    for region in sorted(_phonenumbers.SUPPORTED_REGIONS):
        for number_type in number_types:
            number = _phonenumbers.example_number_for_type(region, number_type)
            if number is None:
                continue
            _phonenumbers.is_valid_number(number)
            _phonenumbers.number_type(number)
            for style in (
                _phonenumbers.PhoneNumberFormat.E164,
                _phonenumbers.PhoneNumberFormat.INTERNATIONAL,
                _phonenumbers.PhoneNumberFormat.NATIONAL,
            ):
                _phonenumbers.parse(_phonenumbers.format_number(number, style), region)
    for text, region in (("call 020 7946 0018 or +1 212 555 0123", "GB"), ("call (212) 555-0123", "US")):
        for match in _phonenumbers.PhoneNumberMatcher(text, region):
            _phonenumbers.format_number(match.number, _phonenumbers.PhoneNumberFormat.E164)
    formatter = _phonenumbers.AsYouTypeFormatter("GB")
    for digit in "+442079460018":
        formatter.input_digit(digit)


def _warm_dateutil() -> None:
    """Run once the code dateutil runs on first use: a recurrence with a TZID (parsing,
    rrule and a zone lookup) and a free-form date."""
    import datetime

    from dateutil import parser, rrule

    list(rrule.rrulestr("DTSTART;TZID=Europe/London:20260105T090000\nRRULE:FREQ=WEEKLY;COUNT=2"))
    parser.parse("Tuesday 3pm", default=datetime.datetime(2026, 1, 1))
