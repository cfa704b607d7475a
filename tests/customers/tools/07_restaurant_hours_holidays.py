"""What are your hours on <day>?  Regular hours, bank holidays, and the closing
on the second Tuesday of each month for deep cleaning."""
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from dateutil import parser
from dateutil.relativedelta import relativedelta, MO, TH
from dateutil.rrule import MONTHLY, rrule, TU

REGULAR = {0: ("17:00", "22:00"), 1: ("17:00", "22:00"), 2: ("17:00", "22:00"), 3: ("17:00", "22:30"),
           4: ("12:00", "23:00"), 5: ("11:00", "23:00"), 6: ("11:00", "21:00")}


@lru_cache(maxsize=None)
def holidays(year, country):
    if country == "GB":
        return {
            date(year, 1, 1): "New Year's Day",
            date(year, 5, 1) + relativedelta(weekday=MO(+1)): "the Early May bank holiday",
            date(year, 12, 25): "Christmas Day",
        }
    return {
        date(year, 1, 1): "New Year's Day",
        date(year, 7, 4): "Independence Day",
        date(year, 11, 1) + relativedelta(weekday=TH(+4)): "Thanksgiving",
        date(year, 12, 25): "Christmas Day",
    }


def cleaning_days(year):
    start = datetime(year, 1, 1)
    yield from (d.date() for d in rrule(MONTHLY, dtstart=start, count=12, byweekday=TU(2)))


def _clock(hhmm):
    t = time.fromisoformat(hhmm)
    return t.strftime("%I:%M %p").lstrip("0").replace(":00", "")


def hours_for(conv: Conversation, day: str):
    site = conv.variant
    tz = ZoneInfo(site.timezone)
    when = parser.parse(day, default=datetime(2026, 1, 1)).date()
    country = site.country or "US"
    closed_for = holidays(when.year, country).get(when)
    if closed_for is None and when in set(cleaning_days(when.year)):
        closed_for = "our monthly deep clean"
    if closed_for:
        nxt = when + timedelta(days=1)
        return f"We're closed on {when:%A %B %d} for {closed_for}. We reopen {nxt:%A} at {_clock(REGULAR[nxt.weekday()][0])}."

    opens, closes = REGULAR[when.weekday()]
    opening = datetime.combine(when, time.fromisoformat(opens), tzinfo=tz)
    offset = opening.utcoffset()
    zone = opening.tzname()
    conv.state.last_hours_query = when.isoformat()
    log.info(f"{site.site_code} {when} offset={offset} zone={zone}")
    note = ""
    nxt_day = opening + timedelta(days=1)
    if nxt_day.utcoffset() != offset:
        note = " Remember the clocks change tonight."
    return f"On {when:%A %B %d} we're open {_clock(opens)} to {_clock(closes)} ({zone}).{note}"
