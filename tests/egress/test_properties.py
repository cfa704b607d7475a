"""Properties of the supervisor's checks on hostile input: they raise only their own error,
what they accept is clean, and ``serve`` answers anything with JSON, never raising."""

from __future__ import annotations

import json
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox.egress.errors import KINDS, EgressError, EgressRecord
from sandbox.egress.fetch import serve
from sandbox.egress.request import RESERVED_HEADERS, check_headers, parse_url

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_URLISH = st.one_of(
    st.text(max_size=80),
    st.builds(
        lambda scheme, host, rest: f"{scheme}://{host}{rest}",
        st.sampled_from(["http", "https", "HTTP", "ftp", ""]),
        st.text(alphabet="abc.-_:@[]%\\/0123456789\r\n\x00 ü", max_size=30),
        st.text(max_size=30),
    ),
)


@SETTINGS
@given(_URLISH)
def test_parse_url_raises_only_its_own_error_and_accepts_only_clean_urls(url):
    try:
        target = parse_url(url)
    except EgressError as exc:
        assert exc.kind == "invalid_url"
        return
    assert not any(ord(c) < 0x21 or ord(c) >= 0x7F for c in target.url)
    assert "@" not in target.netloc
    assert parse_url(target.url) == target  # what we send re-parses to itself


_HEADER_TEXT = st.text(alphabet=st.characters(max_codepoint=0x2FF), max_size=20)


@SETTINGS
@given(st.lists(st.lists(_HEADER_TEXT, min_size=0, max_size=3), max_size=5))
def test_accepted_headers_carry_no_line_breaks(raw):
    try:
        headers = check_headers(raw)
    except EgressError as exc:
        assert exc.kind == "invalid_header"
        return
    for name, value in headers:
        assert name and not any(c in name + value for c in "\r\n\x00")
        assert name.lower() not in RESERVED_HEADERS


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)


@SETTINGS
@given(
    st.one_of(
        _JSON,
        st.fixed_dictionaries(
            {
                "method": st.sampled_from(["GET", "POST", "get", 7]),
                "url": _URLISH,
                "headers": _JSON,
                "body": _JSON,
                "timeout": _JSON,
                "redirects": _JSON,
            }
        ),
    )
)
def test_serve_answers_any_message_without_raising(message):
    record = EgressRecord()
    answer = json.loads(
        serve(
            message,
            policy=None,
            record=record,
            deadline=time.monotonic() + 1,
            deadline_ms=1000,
            secrets=["sekret-value"],
            redact=lambda text: text,
        )
    )
    assert answer["ok"] is False and answer["kind"] in KINDS
    assert record.requests == 1 and len(record.lines) == 1
