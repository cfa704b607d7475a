"""The customer corpus's section at the end of a run: its failures grouped by cause.

A plugin that tests/conftest.py loads (``pytest_plugins``), not a hook in this directory's
conftest.py: under pytest-xdist the controller, which prints the summary from every
worker's reports, collects nothing and so never loads a conftest below tests/.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict

from tests.customers.corpus import cause, generic_problem


def _reason(report) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    text = crash.message if crash is not None else str(report.longrepr)
    text = re.sub(r"^(Failed|AssertionError): ", "", text.strip())
    return text.splitlines()[0] if text else "?"


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    reports = [
        r
        for r in terminalreporter.getreports("failed") + terminalreporter.getreports("passed")
        if "test_customer_case" in r.nodeid and r.when == "call"
    ]
    if not reports:
        return
    failed = [r for r in reports if r.failed]
    write = terminalreporter.write_line
    terminalreporter.section("customer corpus")
    write(f"{len(reports) - len(failed)} passed, {len(failed)} failed of {len(reports)} cases")
    groups = Counter(cause(_reason(r)) for r in failed)
    for text, count in groups.most_common():
        write(f"  {count:4d}  {text}")
    problems: dict[str, set[str]] = defaultdict(set)
    for r in failed:
        tool = r.nodeid.split("[", 1)[1].split("::", 1)[0]
        for name, value in r.user_properties:
            if name == "compile_problems":
                for problem in value:
                    problems[generic_problem(problem)].add(tool)
    if problems:
        write("every compile problem of the failing tools (tools affected):")
        for message, tools in sorted(problems.items(), key=lambda kv: (-len(kv[1]), kv[0])):
            write(f"  {len(tools):4d}  {message}")
