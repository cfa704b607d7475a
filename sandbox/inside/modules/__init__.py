"""The members of module views that are toolpool's own: guarded stand-ins and virtual modules.

Runs in the template (``preload``) and in the confined child. ``sandbox/inside/views.py``
builds a module view from the real module's members the policy names; for the names
listed here it takes these objects instead (``standins``):

* ``logging`` is entirely toolpool's (``toollogging.py``), bound to the namespace's
  context so records reach the current call's log;
* ``zoneinfo`` and ``dateutil.tz.gettz`` serve the bundled tzdata (``zones.py``);
* the functions of ``wrappers.py`` replace members that would step around the guards.

``preload`` loads, before confinement, the data these modules would otherwise read from
disk on first use in the child: every tzdata zone and every phonenumbers region.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, Mapping

import phonenumbers as _phonenumbers

from sandbox.inside.modules import toollogging, wrappers, zones

VIRTUAL: frozenset[str] = frozenset({"logging"})
"""Modules served entirely by stand-ins: the real module is never imported for a tool."""

_EMPTY: Mapping[str, Any] = MappingProxyType({})


def standins(module: str, context: Any) -> Mapping[str, Any]:
    """The stand-in members of ``module`` for one tool namespace (``context`` carries its
    attribute guard and the current call's log)."""
    if module == "logging":
        return toollogging.module_members(lambda: context)
    if module == "operator":
        return {"attrgetter": wrappers.make_attrgetter(context.guard),
                "methodcaller": wrappers.make_methodcaller(context.guard)}
    if module == "functools":
        singledispatch, singledispatchmethod = wrappers.make_singledispatch(context.guard)
        return {**_STATIC["functools"], "singledispatch": singledispatch, "singledispatchmethod": singledispatchmethod}
    return _STATIC.get(module, _EMPTY)


_STATIC: Mapping[str, Mapping[str, Any]] = MappingProxyType({
    "functools": MappingProxyType({"wraps": wrappers.wraps, "update_wrapper": wrappers.update_wrapper,
                                   "total_ordering": wrappers.total_ordering}),
    "copy": MappingProxyType({"copy": wrappers.copy, "deepcopy": wrappers.deepcopy}),
    "collections": MappingProxyType({"namedtuple": wrappers.namedtuple}),
    "typing": MappingProxyType({"NamedTuple": wrappers.NamedTuple, "get_origin": wrappers.get_origin,
                                "get_args": wrappers.get_args, "final": wrappers.final,
                                "no_type_check": wrappers.no_type_check,
                                "runtime_checkable": wrappers.runtime_checkable}),
    "dataclasses": MappingProxyType({"dataclass": wrappers.dataclass, "make_dataclass": wrappers.make_dataclass}),
    "abc": MappingProxyType({"ABCMeta": wrappers.ABC_META, "abstractmethod": wrappers.abstractmethod}),
    "zoneinfo": MappingProxyType({"ZoneInfo": zones.ZoneInfo, "available_timezones": zones.available_timezones}),
    "dateutil.tz": MappingProxyType({"gettz": zones.gettz}),
    # the library's own table, read-only: a tool must not rewrite how numbers resolve
    "phonenumbers": MappingProxyType({
        "COUNTRY_CODE_TO_REGION_CODE": MappingProxyType(_phonenumbers.COUNTRY_CODE_TO_REGION_CODE),
        "SUPPORTED_REGIONS": frozenset(_phonenumbers.SUPPORTED_REGIONS),
    }),
})


def preload() -> None:
    """Load what these modules read from disk lazily, and make the runtime's own patches.
    Call before confinement."""
    wrappers.guard_enum_functional_api()
    zones.preload()
    from phonenumbers.phonemetadata import PhoneMetadata

    PhoneMetadata.load_all()
