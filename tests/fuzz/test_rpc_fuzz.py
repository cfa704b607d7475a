"""Hypothesis drives every RPC's request messages at a real server, as tenant acme.

Fields get malformed and random JSON, huge strings, deep nesting, wrong types (a
conversation whose ``state`` is a list, a ``variants`` that is a number), missing
fields (an unset oneof, empty names), names on and past every boundary; the bytes on
the wire get invalid UTF-8 in string fields, truncations, random garbage and messages
past the size limit. The invariants (``Target.check``): the server never dies, every
request gets a typed status, no canary of tenant globex (or secret, or token) appears
in any response, status message or metadata; and after each test no child is leaked.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.faults import support
from tests.fuzz import strategies as fz
from tests.fuzz.conftest import (
    ACME_OPERATOR_TOKEN,
    ACME_SECRET_NAME,
    CANARY_SECRET,
    CANARY_SECRET_NAME,
    GRPC_TOO_LARGE,
    GRPC_UNDECODABLE,
    MAX_MESSAGE,
)
from tests.integration.harness import ACME_TOKEN
from tests.test_compiler_totality import python_like
from worker._proto.toolpool.v1 import toolpool_pb2 as pb

FUZZ = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)

TENANTS = fz.mostly(st.just("acme"), fz.names(["acme", "globex", "acme-ui"]))
FUNCTIONS = fz.mostly(
    st.sampled_from(["start_function", "echo", "raiser", "peek"]), fz.names(["leak", "__init__", "nope", "_private"])
)
FILE_NAMES = fz.mostly(
    st.sampled_from(["tools.py", "a.py", "b.py"]), fz.names(["__init__.py", "x.txt", "../tools.py", "a.py.py"])
)
ALIASES = fz.mostly(st.sampled_from(["latest", "nope"]), fz.names(["latest"]))
SECRET_NAMES = fz.names(["api_key", "k", "a.b"]).filter(lambda n: n != ACME_SECRET_NAME)


@st.composite
def targets(draw, target):
    which = draw(fz.mostly(st.sampled_from(["version_id", "alias"]), st.none(), tenths=9))
    if which == "version_id":
        return {
            "version_id": draw(
                fz.mostly(
                    st.just(target.acme_version),
                    st.one_of(
                        st.sampled_from([target.globex_version, target.acme_version[:12], target.acme_version.upper()]),
                        fz.names(["latest"]),
                    ),
                )
            )
        }
    if which == "alias":
        return {"alias": draw(ALIASES)}
    return {}


def test_execute(target):
    @FUZZ
    @given(data=st.data())
    def run(data):
        request = pb.ExecuteRequest(
            tenant=data.draw(TENANTS),
            function=data.draw(FUNCTIONS),
            args_json=data.draw(fz.mostly(fz.ARGS.map(json.dumps), fz.JSON_TEXTS)),
            conversation_json=data.draw(fz.mostly(fz.CONVERSATIONS.map(json.dumps), fz.JSON_TEXTS)),
            deadline_ms=data.draw(fz.mostly(st.sampled_from([0, 500, 3000]), fz.uint32())),
            call_id=data.draw(fz.mostly(st.just(""), fz.names(["c-1"]))),
            **data.draw(targets(target)),
        )
        target.check(target.call("Execute", request), grpc_refusals=(GRPC_TOO_LARGE,))

    run()
    target.assert_at_rest()


def test_deploy(target):
    sources = fz.mostly(
        st.one_of(python_like(), st.sampled_from(["def f(conv):\n    return 1\n", "def f(conv):\n    return (\n"])),
        st.one_of(
            st.text(max_size=300),
            st.sampled_from(["", "\x00", "\ufeffdef f(conv): pass\n"]),
            st.integers(1000, 300_000).map(lambda n: "# " + "x" * n + "\n"),
        ),
    )

    @FUZZ
    @given(
        tenant=TENANTS,
        files=fz.mostly(
            st.lists(st.tuples(FILE_NAMES, sources), min_size=1, max_size=3, unique_by=lambda f: f[0]),
            st.lists(st.tuples(FILE_NAMES, sources), max_size=5),
        ),
        alias=st.one_of(st.just(""), ALIASES.filter(lambda a: a != "latest")),
    )
    def run(tenant, files, alias):
        request = pb.DeployRequest(
            tenant=tenant, alias=alias, files=[pb.SourceFile(name=n, source=s) for n, s in files]
        )
        target.check(target.call("Deploy", request), grpc_refusals=(GRPC_TOO_LARGE,))

    run()
    target.assert_at_rest()


def test_versions(target):
    @FUZZ
    @given(data=st.data())
    def run(data):
        if data.draw(st.booleans()):
            request = pb.GetVersionRequest(
                tenant=data.draw(TENANTS), include_sources=data.draw(st.booleans()), **data.draw(targets(target))
            )
            target.check(target.call("GetVersion", request))
        else:
            target.check(target.call("ListVersions", pb.ListVersionsRequest(tenant=data.draw(TENANTS))))

    run()
    target.assert_at_rest()


def test_secrets(target):
    values = st.one_of(st.text(max_size=100), st.integers(60_000, 70_000).map(lambda n: "v" * n))

    @FUZZ
    @given(data=st.data())
    def run(data):
        kind = data.draw(st.sampled_from(["set", "delete", "list"]))
        tenant = data.draw(TENANTS)
        if kind == "set":
            answer = target.call(
                "SetSecret", pb.SetSecretRequest(tenant=tenant, name=data.draw(SECRET_NAMES), value=data.draw(values))
            )
        elif kind == "delete":
            answer = target.call("DeleteSecret", pb.DeleteSecretRequest(tenant=tenant, name=data.draw(SECRET_NAMES)))
        else:
            answer = target.call("ListSecretNames", pb.ListSecretNamesRequest(tenant=tenant))
        target.check(answer)

    run()
    target.assert_at_rest()


@st.composite
def egress_policies(draw):
    ports = st.lists(fz.mostly(st.sampled_from([80, 443, 8080]), fz.uint32()), max_size=3)
    hosts = st.builds(
        pb.EgressHostRule,
        pattern=fz.mostly(
            st.sampled_from(["api.example.com", "*.example.com", "example.org"]),
            fz.names(
                ["*", "", "localhost", "10.0.0.1", "*.*.com", "xn--80ak6aa92e.com", "a" * 300, "api.example.com."]
            ),
        ),
        ports=ports,
        schemes=st.lists(
            fz.mostly(st.sampled_from(["http", "https"]), st.sampled_from(["", "HTTPS", "ftp", "file", "gopher"])),
            max_size=2,
        ),
    )
    addresses = st.builds(
        pb.EgressAddressRule,
        network=fz.mostly(
            st.sampled_from(["127.0.0.1", "10.1.2.0/24", "::1"]),
            fz.names(["0.0.0.0/0", "::/0", "169.254.169.254", "999.1.1.1", "fe80::1%eth0", "10.0.0.0/33", "localhost"]),
        ),
        ports=ports,
    )
    policy = pb.EgressPolicy(
        hosts=draw(st.lists(hosts, max_size=3)),
        addresses=draw(st.lists(addresses, max_size=2)),
        ca_pem=draw(
            st.one_of(
                st.just(""),
                st.text(max_size=200),
                st.just("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
            )
        ),
    )
    for cap in ("max_requests", "max_redirects"):
        if draw(st.booleans()):
            setattr(policy, cap, draw(fz.uint32()))
    for cap in ("max_response_bytes", "max_request_bytes"):
        if draw(st.booleans()):
            setattr(policy, cap, draw(st.integers(0, 2**64 - 1)))
    return policy


def test_egress_policies(target):
    @FUZZ
    @given(data=st.data())
    def run(data):
        token = data.draw(st.sampled_from([ACME_TOKEN, ACME_OPERATOR_TOKEN]))
        tenant = data.draw(TENANTS)
        if data.draw(st.booleans()):
            request = pb.SetEgressPolicyRequest(tenant=tenant)
            if data.draw(fz.mostly(st.just(True), st.just(False))):
                request.policy.CopyFrom(data.draw(egress_policies()))
            answer = target.call("SetEgressPolicy", request, token=token)
            if token == ACME_TOKEN and answer.code is not None and answer.code != "UNAUTHENTICATED":
                assert answer.code in ("PERMISSION_DENIED", "INVALID_ARGUMENT"), answer.describe()
        else:
            answer = target.call("GetEgressPolicy", pb.GetEgressPolicyRequest(tenant=tenant), token=token)
        target.check(answer)

    run()
    # Leave acme without egress, as the other fuzzers expect.
    target.call("SetEgressPolicy", pb.SetEgressPolicyRequest(tenant="acme"), token=ACME_OPERATOR_TOKEN)
    target.assert_at_rest()


def test_credentials(target):
    headers = st.one_of(
        st.text(alphabet=fz.ASCII_PRINTABLE, max_size=80),
        st.sampled_from(
            [
                "",
                "Bearer",
                "Bearer ",
                "bearer " + ACME_TOKEN,
                "Bearer  " + ACME_TOKEN,
                "Bearer " + ACME_TOKEN + " ",
                "Bearer " + ACME_TOKEN[:-1],
                "Basic " + ACME_TOKEN,
                ACME_TOKEN,
            ]
        ),
        st.text(alphabet=fz.ASCII_PRINTABLE, max_size=40).map(lambda t: "Bearer " + t),
    )

    @FUZZ
    @given(header=headers, method=st.sampled_from(["ListVersions", "ListSecretNames"]))
    def run(header, method):
        request = getattr(pb, f"{method}Request")(tenant="acme")
        call = getattr(target.stub, method)
        answer = support.answer_of(lambda: call.with_call(request, metadata=(("authorization", header),), timeout=10))
        target.check(answer)
        if header != "Bearer " + ACME_TOKEN:
            assert answer.code in ("UNAUTHENTICATED", None) or answer.is_verdict, answer.describe()

    run()
    target.assert_at_rest()


METHODS = [
    "Deploy",
    "Execute",
    "GetVersion",
    "ListVersions",
    "SetSecret",
    "DeleteSecret",
    "ListSecretNames",
    "SetEgressPolicy",
    "GetEgressPolicy",
]
# Each RPC's string fields (field number), where invalid UTF-8 goes.
STRING_FIELDS = {
    "Deploy": [1, 3],
    "Execute": [1, 2, 3, 4, 5, 6, 8],
    "GetVersion": [1, 2, 3],
    "ListVersions": [1],
    "SetSecret": [1, 2, 3],
    "DeleteSecret": [1, 2],
    "ListSecretNames": [1],
    "SetEgressPolicy": [1],
    "GetEgressPolicy": [1],
}


def _valid(method: str, target) -> bytes:
    return {
        "Deploy": pb.DeployRequest(tenant="acme", files=[pb.SourceFile(name="t.py", source="x = 1\n")]),
        "Execute": pb.ExecuteRequest(tenant="acme", version_id=target.acme_version, function="start_function"),
        "GetVersion": pb.GetVersionRequest(tenant="acme", alias="latest"),
        "ListVersions": pb.ListVersionsRequest(tenant="acme"),
        "SetSecret": pb.SetSecretRequest(tenant="acme", name="k", value="v"),
        "DeleteSecret": pb.DeleteSecretRequest(tenant="acme", name="k"),
        "ListSecretNames": pb.ListSecretNamesRequest(tenant="acme"),
        "SetEgressPolicy": pb.SetEgressPolicyRequest(tenant="acme"),
        "GetEgressPolicy": pb.GetEgressPolicyRequest(tenant="acme"),
    }[method].SerializeToString()


@st.composite
def raw_payloads(draw, target):
    method = draw(st.sampled_from(METHODS))
    kind = draw(
        st.sampled_from(
            [
                "garbage",
                "invalid_utf8",
                "truncated",
                "nested_utf8",
                "unknown_fields",
                "wrong_wire_type",
                "deep_groups",
                "empty",
            ]
        )
    )
    valid = _valid(method, target)
    if kind == "garbage":
        payload = draw(st.binary(max_size=2000))
    elif kind == "invalid_utf8":
        field = draw(st.sampled_from(STRING_FIELDS[method]))
        payload = valid + fz.length_delimited(field, draw(fz.INVALID_UTF8))
    elif kind == "nested_utf8":  # a SourceFile whose source is not UTF-8
        method, payload = (
            "Deploy",
            fz.varint(1 << 3 | 2)
            + b"\x04acme"
            + fz.length_delimited(2, fz.length_delimited(1, b"t.py") + fz.length_delimited(2, draw(fz.INVALID_UTF8))),
        )
    elif kind == "truncated":
        payload = valid[: draw(st.integers(0, max(0, len(valid) - 1)))] + draw(
            st.sampled_from([b"", b"\x0a", b"\x0a\xff"])
        )
    elif kind == "wrong_wire_type":  # a string field sent as a number, or a number as bytes
        field = draw(st.sampled_from(STRING_FIELDS[method] + [7]))
        payload = (
            valid + fz.varint(field << 3 | draw(st.sampled_from([0, 1, 5]))) + fz.varint(draw(st.integers(0, 2**63)))
        )
    elif kind == "deep_groups":  # unknown field 99 as a group nested thousands deep
        depth = draw(st.integers(1, 20_000))
        payload = valid + fz.varint(99 << 3 | 3) * depth + fz.varint(99 << 3 | 4) * depth
    elif kind == "empty":
        payload = b""
    else:
        payload = valid + fz.length_delimited(draw(st.integers(20, 10_000)), draw(st.binary(max_size=50)))
    return method, payload


def test_raw_bytes(target):
    @FUZZ
    @given(raw_payloads(target))
    def run(case):
        method, payload = case
        answer = target.raw(method, payload)
        target.check(answer, grpc_refusals=(GRPC_UNDECODABLE,))

    run()
    target.assert_at_rest()


@pytest.mark.parametrize("method", METHODS)
def test_an_oversized_message_is_refused_before_it_is_read(target, method):
    answer = target.raw(method, _valid(method, target) + fz.length_delimited(15, b"x" * (MAX_MESSAGE + 1024)))
    target.check(answer, grpc_refusals=(GRPC_TOO_LARGE,))
    assert answer.code == "RESOURCE_EXHAUSTED", answer.describe()


@pytest.mark.parametrize("method", METHODS)
def test_an_undecodable_request_is_invalid_argument(target, method):
    """A request that is not a valid message is the caller's mistake: INVALID_ARGUMENT, with a
    reason, as the proto's status table says; never INTERNAL, which means "a bug; the call
    may have run" and makes a client treat an Execute that never started as maybe-run."""
    answer = target.raw(method, _valid(method, target) + fz.length_delimited(STRING_FIELDS[method][0], b"\xff"))
    assert (answer.code, answer.reason) == ("INVALID_ARGUMENT", "INVALID_FIELD"), answer.describe()


def test_a_tenant_that_asks_for_another_tenants_secret_learns_nothing(target):
    request = support.execute_request("acme", "peek", version_id=target.acme_version, args={"name": CANARY_SECRET_NAME})
    answer = target.call("Execute", request)
    assert answer.status == "runtime_error" and answer.error_kind == "SecretNotFound", answer.describe()
    assert CANARY_SECRET.encode() not in answer.raw
    globex = target.call(
        "GetVersion", pb.GetVersionRequest(tenant="acme", version_id=target.globex_version, include_sources=True)
    )
    assert globex.code == "NOT_FOUND", globex.describe()
    target.check(globex)
