# escape: change decimal.DefaultContext past the attribute guard: unbound Context.clear_traps, MutableMapping.update on its traps, Context.__init__
# layer: views
# expect: contained
# The guard refuses a.b = v and item writes on the templates; methods that mutate in C are
# another spelling. Tools get copies of the templates, so whatever reaches one changes only it.
import decimal
from collections.abc import MutableMapping


def tool(conv):
    attempts = (
        lambda: decimal.Context.clear_traps(decimal.DefaultContext),
        lambda: MutableMapping.update(decimal.DefaultContext.traps, {decimal.Inexact: True}),
        lambda: decimal.DefaultContext.traps.update({decimal.Rounded: True}),
        lambda: decimal.Context.__init__(decimal.DefaultContext, prec=3),
    )
    for attempt in attempts:
        try:
            attempt()
        except (TypeError, AttributeError):
            pass
    fresh = decimal.Context()
    if fresh.prec != 28 or fresh.traps[decimal.Inexact] or fresh.traps[decimal.Rounded] or not fresh.traps[decimal.DivisionByZero]:
        return "escaped: new contexts changed: prec=%d traps=%r" % (fresh.prec, fresh.traps)
    return "contained"
