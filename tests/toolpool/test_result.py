"""``toolpool.Result`` is the supervisor's ``sandbox.result.Result`` for the public API:
the same statuses, fields and JSON, held together here (the two are kept apart only so
that ``import toolpool`` loads no sandbox)."""

from __future__ import annotations

import dataclasses
import json

from hypothesis import given, settings
from hypothesis import strategies as st

import toolpool
from sandbox import result as supervisor
from toolpool import result as public

texts = st.text(max_size=12)
values = st.recursive(
    st.none() | st.booleans() | st.integers() | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=8,
)
results = st.builds(
    supervisor.Result,
    status=st.sampled_from(supervisor.Status),
    action=st.dictionaries(st.sampled_from(["content", "utterance"]), texts, max_size=2),
    state=st.dictionaries(texts, values, max_size=3),
    state_changes=st.fixed_dictionaries(
        {"set": st.dictionaries(texts, values, max_size=2), "deleted": st.lists(texts, max_size=2)}
    ),
    logs=st.lists(st.fixed_dictionaries({"level": st.sampled_from(["debug", "info"]), "message": texts}), max_size=2),
    error=st.none()
    | st.builds(
        supervisor.ErrorInfo,
        kind=texts,
        message=texts,
        file=st.none() | texts,
        line=st.none() | st.integers(1, 999),
        traceback=st.none() | texts,
    ),
    usage=st.builds(
        supervisor.Usage,
        wall_ms=st.floats(0, 1e5),
        cpu_ms=st.floats(0, 1e5),
        peak_rss_bytes=st.integers(0, 2**40),
        http_requests=st.integers(0, 100),
        http_bytes=st.integers(0, 2**30),
    ),
)


def test_same_statuses_and_fields():
    assert [(s.name, s.value) for s in public.Status] == [(s.name, s.value) for s in supervisor.Status]
    for mine, theirs in (
        (public.Result, supervisor.Result),
        (public.ErrorInfo, supervisor.ErrorInfo),
        (public.Usage, supervisor.Usage),
    ):
        assert [(f.name, f.type) for f in dataclasses.fields(mine)] == [
            (f.name, f.type) for f in dataclasses.fields(theirs)
        ]
    assert toolpool.Status.OK == "ok" and toolpool.Result is public.Result


@settings(max_examples=200, deadline=None)
@given(results)
def test_the_same_json_both_ways(result):
    as_json = result.to_json(sort_keys=True)
    mine = public.Result.from_dict(json.loads(as_json))
    assert mine.to_json(sort_keys=True) == as_json
    assert mine.ok == result.ok
