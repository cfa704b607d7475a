"""Time zones for tools: ``zoneinfo`` and ``dateutil.tz.gettz``, from the tzdata package.

Runs in the template (``preload``, before confinement) and in the confined child. The
child has no file system, yet ``ZoneInfo("Europe/London")`` must work and cost no I/O. So
the template points ``zoneinfo`` at the ``tzdata`` package only (an empty search path:
the host's /usr/share/zoneinfo never enters), builds every zone once and keeps it, and
keeps each zone's raw TZif bytes for ``dateutil``. Children inherit both copy-on-write.

What a tool gets:

* ``ZoneInfo`` is a subclass of the standard ``zoneinfo.ZoneInfo`` (so ``isinstance``,
  ``datetime.now(tz)``, ``astimezone()``, ``fold`` and DST transitions are the standard
  library's own code). ``ZoneInfo(key)`` returns the zone the template built: the same
  object for the same key, as the standard cache does. A key that is not a zone raises
  ``ZoneInfoNotFoundError`` naming it; a path (absolute, or with ``..``) raises the
  ``ValueError`` CPython raises. Neither ever opens a file. ``from_file``, ``no_cache``
  and ``clear_cache`` are refused (a file object; a cache shared by every zone), and the
  class cannot be subclassed (a subclass would have its own cache, loaded from disk);
* ``available_timezones()`` is the set of keys in the bundled database;
* ``dateutil.tz.gettz(name)`` builds a dateutil ``tzfile`` from the same bundled bytes on
  first use (a fraction of a millisecond) and caches it; POSIX TZ strings (``"EST5EDT"``)
  and ``UTC``/``GMT`` behave as in dateutil; an unknown name is ``None``. The zone's class
  is a ``tzfile`` whose constructor refuses to be called (``type(zone)("/tmp")`` would
  open a path), since ``type(x)`` hands a tool the class of anything it holds. The
  template makes this ``gettz`` dateutil's own too (``dateutil.tz.gettz``), so library code
  that resolves a zone by name (``rrulestr``'s ``TZID=``) uses the bundled database and
  never a path.
"""

from __future__ import annotations

import importlib.resources
import io
import time
import zoneinfo
from typing import Any
from zoneinfo import _tzpath  # the standard key validation, for CPython's own ValueErrors

ZoneInfoNotFoundError = zoneinfo.ZoneInfoNotFoundError


class _Database:
    """The bundled zones, loaded once by ``preload``."""

    __slots__ = ("dateutil_zones", "keys", "raw", "zones")

    def __init__(self) -> None:
        self.keys: frozenset[str] = frozenset()
        self.zones: dict[str, ZoneInfo] = {}
        self.raw: dict[str, bytes] = {}
        self.dateutil_zones: dict[str, Any] = {}


_DB = _Database()


class ZoneInfo(zoneinfo.ZoneInfo):
    """The tools' ``zoneinfo.ZoneInfo``: every zone of the bundled tzdata, no file access."""

    def __new__(cls, key: Any) -> ZoneInfo:
        if not isinstance(key, str):
            raise TypeError(f"ZoneInfo key must be a string, got {type(key).__name__}")
        _tzpath._validate_tzfile_path(key)  # type: ignore[attr-defined]  # private, unlisted in typeshed
        if key not in _DB.keys:
            raise ZoneInfoNotFoundError(f"No time zone found with key {key}")
        zone = _DB.zones.get(key)
        if zone is not None:
            return zone
        return super().__new__(cls, key)  # only while preloading, in the template

    def __init_subclass__(cls, **kwargs: Any) -> None:
        raise TypeError("zoneinfo.ZoneInfo cannot be subclassed in tools")

    @classmethod
    def from_file(cls, *args: Any, **kwargs: Any) -> ZoneInfo:
        raise TypeError("ZoneInfo.from_file is not available to tools (there are no files); use ZoneInfo(key)")

    @classmethod
    def no_cache(cls, *args: Any, **kwargs: Any) -> ZoneInfo:
        raise TypeError("ZoneInfo.no_cache is not available to tools; use ZoneInfo(key)")

    @classmethod
    def clear_cache(cls, *args: Any, **kwargs: Any) -> None:
        raise TypeError("ZoneInfo.clear_cache is not available to tools")


ZoneInfo.__module__ = "zoneinfo"


def available_timezones() -> set[str]:
    """The keys of every zone in the bundled database."""
    return set(_DB.keys)


def _bundled_keys() -> frozenset[str]:
    listing = importlib.resources.files("tzdata").joinpath("zones").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in listing.splitlines() if line.strip())


def preload(warm: tuple[str, ...] = ()) -> None:
    """Load every zone of the tzdata package, and build the dateutil zones named in
    ``warm``. Call before confinement (the template)."""
    if _DB.keys:
        return
    zoneinfo.reset_tzpath(to=[])  # the bundled database only, never the host's files
    keys = _bundled_keys()
    root = importlib.resources.files("tzdata.zoneinfo")
    _DB.keys = keys
    for key in sorted(keys):
        _DB.raw[key] = root.joinpath(*key.split("/")).read_bytes()
        _DB.zones[key] = ZoneInfo(key)
    from dateutil import tz as dateutil_tz

    # What dateutil's own code (rrulestr's TZID=) resolves zones with; a plain function, on
    # purpose, where dateutil's is an instance with a cache (its stub's type, _GetTZ).
    dateutil_tz.gettz = gettz  # type: ignore[assignment]  # replaced on purpose (above)
    dateutil_tz.tz.gettz = gettz  # type: ignore[assignment]  # replaced on purpose (above)
    for name in warm:
        gettz(name)


# ---------------------------------------------------------------------------------------
# dateutil.tz.gettz
# ---------------------------------------------------------------------------------------


def gettz(name: Any = None) -> Any:
    """``dateutil.tz.gettz`` over the bundled database (see the module docstring)."""
    from dateutil import tz as dateutil_tz

    if not name:
        return dateutil_tz.tzlocal()
    if not isinstance(name, str):
        raise TypeError(f"gettz() takes a str, got {type(name).__name__}")
    name = str.__str__(name)
    cached = _DB.dateutil_zones.get(name)
    if cached is not None:
        return cached
    raw = _DB.raw.get(name)
    if raw is not None:
        zone = _bundled_tzfile(name, raw)
    elif any(ch.isdigit() for ch in name):
        try:
            zone = dateutil_tz.tzstr(name)
        except ValueError:
            return None
    elif name in ("GMT", "UTC"):
        zone = dateutil_tz.UTC
    elif name in time.tzname:
        zone = dateutil_tz.tzlocal()
    else:
        return None
    _DB.dateutil_zones[name] = zone
    return zone


class _Classes:
    """dateutil's tzfile and the tools' subclass of it, made on first use (dateutil is
    imported lazily, like the real gettz)."""

    __slots__ = ("tzfile",)

    def __init__(self) -> None:
        self.tzfile: Any = None


_CLASSES = _Classes()


def _tzfile_class() -> Any:
    if _CLASSES.tzfile is None:
        from dateutil import tz as dateutil_tz

        from sandbox.policy_tables import LEFT_OUT

        refusal = f"dateutil.tz.tzfile is not available to tools: {LEFT_OUT['dateutil.tz']['tzfile']}"

        class tzfile(dateutil_tz.tzfile):  # noqa: N801 - dateutil's name, shown by repr()
            """A zone of the bundled database. Its constructor is refused: a tool gets this
            class from ``type(zone)``, and dateutil's ``tzfile(path)`` opens a file."""

            def __init__(self, *args: Any, **kwargs: Any) -> None:
                raise TypeError(refusal)

            def __init_subclass__(cls, **kwargs: Any) -> None:
                raise TypeError("dateutil's tzfile cannot be subclassed in tools; use dateutil.tz.gettz(name)")

        tzfile.__module__ = "dateutil.tz"
        _CLASSES.tzfile = tzfile
    return _CLASSES.tzfile


def _bundled_tzfile(name: str, raw: bytes) -> Any:
    """A dateutil ``tzfile`` of the bundled bytes of zone ``name``, built around the
    refusing constructor of its class."""
    from dateutil import tz as dateutil_tz

    cls = _tzfile_class()
    zone = cls.__new__(cls)
    dateutil_tz.tzfile.__init__(zone, io.BytesIO(raw), filename=name, key=name)  # type: ignore[call-arg]  # key=: dateutil 4; the stubs are 2.9
    return zone
