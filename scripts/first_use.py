"""The template's memory and what the modules tools use cost on first use in a fresh child.

    python scripts/first_use.py [CALLS]

Starts a confined pool of the ``sandbox`` this interpreter imports, prints the template's
resident memory (``/proc/PID/status``), then runs CALLS (default 15) calls of one tool,
each in a fresh child, that times the first use of phonenumbers, dateutil and zoneinfo
operations with ``time.perf_counter``, and prints the median of each. A measurement for
people, not a test: no figure here is asserted anywhere (``sandbox/child/modules``
``preload`` says what the template warms, and why).
"""

from __future__ import annotations

import ast
import statistics
import sys
import time

from sandbox.compile.compiler import compile_bundle
from sandbox.supervisor.call import CallRequest, requested_deadline
from sandbox.supervisor.pool import Pool, PoolConfig

TOOL = """
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import phonenumbers
from dateutil import parser, tz
from dateutil.rrule import rrulestr


def timed(fn):
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def tool(conv):
    pn = phonenumbers
    times = {
        "number_type DE mobile": timed(lambda: pn.number_type(pn.parse("+4915112345678", None))),
        "is_valid_number GB": timed(lambda: pn.is_valid_number(pn.parse("+442079460018", None))),
        "format NATIONAL US": timed(lambda: pn.format_number(pn.parse("+12125550123", None), pn.PhoneNumberFormat.NATIONAL)),
        "PhoneNumberMatcher": timed(lambda: list(pn.PhoneNumberMatcher("call 020 7946 0018 or +1 212 555 0123", "GB"))),
        "gettz Europe/London": timed(lambda: tz.gettz("Europe/London")),
        "parser.parse": timed(lambda: parser.parse("Tuesday 3pm", default=datetime(2026, 1, 1))),
        "gettz Europe/Madrid": timed(lambda: tz.gettz("Europe/Madrid")),
        "rrulestr TZID": timed(lambda: list(rrulestr("DTSTART;TZID=Europe/London:20260105T090000\\nRRULE:FREQ=DAILY;COUNT=2"))),
        "ZoneInfo + astimezone": timed(lambda: datetime(2026, 7, 1, 12).astimezone(ZoneInfo("Asia/Tokyo"))),
    }
    return repr(times)
"""


def memory(pid: int) -> dict[str, int]:
    with open(f"/proc/{pid}/status") as status:
        return {
            line.split(":")[0]: int(line.split()[1])
            for line in status
            if line.startswith(("VmRSS", "RssAnon", "RssFile"))
        }


def main() -> int:
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    bundle = compile_bundle({"tool.py": TOOL})
    started = time.perf_counter()
    with Pool(PoolConfig(ready_children=1)) as pool:
        print(f"pool started in {(time.perf_counter() - started) * 1000:.0f} ms")
        time.sleep(0.5)  # the template's first children are forked
        print("template (kB):", memory(pool._template.pid))
        rows = []
        for _ in range(calls):
            result = pool.execute(
                CallRequest(tenant="t", bundle=bundle, function="tool", secrets={}, deadline=requested_deadline(3000))
            )
            if result.error is not None:
                print(result.status.value, result.error.message)
                return 1
            rows.append(ast.literal_eval(result.action["content"]))
    print(f"first use in a fresh child, median of {calls} calls:")
    for name in rows[0]:
        print(f"  {name:24s} {statistics.median(row[name] for row in rows):6.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
