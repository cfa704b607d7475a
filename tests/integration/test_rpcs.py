"""Every RPC against the real server, and every error code it can answer."""

from __future__ import annotations

import json
import time

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from tests.integration.harness import BROKEN, TOOLS, auth, deploy, execute, reason, rpc_error
from worker._proto.toolpool.v1 import toolpool_pb2 as pb


@pytest.fixture(scope="module")
def version(running) -> str:
    response = deploy(running.stub, "acme", alias="latest")
    assert response.WhichOneof("outcome") == "deployed"
    return response.deployed.version_id


def rich_details(error: grpc.RpcError) -> list:
    raw = dict(error.trailing_metadata())["grpc-status-details-bin"]
    status = status_pb2.Status.FromString(raw)
    assert status.code == error.code().value[0]
    found = []
    for detail in status.details:
        for kind in (error_details_pb2.ErrorInfo, error_details_pb2.RetryInfo, error_details_pb2.BadRequest):
            if detail.Is(kind.DESCRIPTOR):
                message = kind()
                detail.Unpack(message)
                found.append(message)
    return found


# -- Deploy --------------------------------------------------------------------------------


def test_deploy_returns_a_content_address_and_the_functions(running, version):
    again = deploy(running.stub, "acme", alias="latest")
    assert again.deployed.version_id == version
    assert again.deployed.created is False  # idempotent: same files, same version
    assert {"start_function", "add", "slow", "spin"} <= set(again.deployed.functions)
    assert list(again.deployed.functions) == sorted(again.deployed.functions)


def test_compile_errors_name_each_file_and_line_and_store_nothing(running, version):
    response = deploy(running.stub, "acme", BROKEN, alias="latest")
    assert response.WhichOneof("outcome") == "compile_errors"
    errors = response.compile_errors.errors
    assert {e.file for e in errors} >= {"bad.py", "worse.py"}
    assert all(e.line > 0 for e in errors if e.file in ("bad.py", "worse.py"))
    assert all(e.message for e in errors)
    # Never half-deployed: the alias still points at the good version, no new version exists.
    listed = running.stub.ListVersions(pb.ListVersionsRequest(tenant="acme"), metadata=auth())
    assert [v.version_id for v in listed.versions] == [version]
    assert execute(running.stub, "acme", "start_function", alias="latest").version_id == version


@pytest.mark.parametrize(
    "files, field", [({}, "files"), ({"../evil.py": "x = 1\n"}, "files["), ({"tools.txt": "x = 1\n"}, "files[")]
)
def test_deploy_refuses_malformed_bundles(running, files, field):
    error = rpc_error(deploy, running.stub, "acme", files)
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert error.details().startswith(field)
    assert reason(error) == "INVALID_FIELD"


def test_deploy_refuses_duplicate_file_names(running):
    request = pb.DeployRequest(tenant="acme", files=[pb.SourceFile(name="a.py", source="x = 1\n")] * 2)
    error = rpc_error(running.stub.Deploy, request, metadata=auth())
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert error.details().startswith("files[1].name")
    violations = [d for d in rich_details(error) if isinstance(d, error_details_pb2.BadRequest)]
    assert violations[0].field_violations[0].field == "files[1].name"


def test_deploy_refuses_a_bad_tenant_or_alias(running):
    assert rpc_error(deploy, running.stub, "", alias="x").details().startswith("tenant")
    assert rpc_error(deploy, running.stub, "acme", alias="no spaces").details().startswith("alias")


# -- Execute -------------------------------------------------------------------------------


def test_execute_returns_the_result_model_and_ints_stay_ints(running, version):
    response = execute(
        running.stub,
        "acme",
        "add",
        version_id=version,
        args={"a": 1, "b": 2},
        conversation={"state": {"big": 2**62, "f": 1.5}},
    )
    result = response.result
    assert result.status == pb.OK
    assert response.version_id == version and response.call_id
    assert json.loads(result.action_json) == {"content": "3"}
    state = json.loads(result.state_json)
    assert state == {"big": 2**62, "f": 1.5, "total": 3}
    assert type(state["total"]) is int and type(state["big"]) is int
    assert '"total":3' in result.state_json  # not 3.0 on the wire
    assert json.loads(result.state_changes_json) == {"set": {"total": 3}, "deleted": []}
    assert not result.HasField("error")
    assert result.usage.wall_ms > 0


def test_execute_by_alias_and_positional_args(running, version):
    response = execute(running.stub, "acme", "add", alias="latest", args=[2, 5])
    assert response.version_id == version
    assert json.loads(response.result.action_json) == {"content": "7"}


def test_a_failing_tool_is_a_result_not_an_rpc_error(running, version):
    result = execute(running.stub, "acme", "boom", version_id=version).result
    assert result.status == pb.RUNTIME_ERROR
    assert result.error.kind == "ValueError"
    assert result.error.file == "tools.py" and result.error.line > 0


def test_the_verdict_arrives_before_the_callers_deadline(running, version):
    """A tool that never ends: the caller sees status timeout, not DEADLINE_EXCEEDED."""
    started = time.monotonic()
    result = execute(running.stub, "acme", "spin", version_id=version, timeout=0.8).result
    elapsed = time.monotonic() - started
    assert result.status == pb.TIMEOUT
    assert elapsed < 0.8


def test_deadline_ms_bounds_the_call(running, version):
    result = execute(running.stub, "acme", "slow", version_id=version, args={"ms": 2000}, deadline_ms=200).result
    assert result.status == pb.TIMEOUT
    assert result.usage.wall_ms < 1000


def test_a_grpc_deadline_too_short_to_run_is_deadline_exceeded(running, version):
    error = rpc_error(execute, running.stub, "acme", "start_function", version_id=version, timeout=0.05)
    assert error.code() is grpc.StatusCode.DEADLINE_EXCEEDED
    # Either the server said so in time, or the client's own clock fired first.
    assert reason(error) in ("DEADLINE_TOO_SHORT", None)
    error = rpc_error(execute, running.stub, "acme", "start_function", version_id=version, timeout=0.11)
    assert error.code() is grpc.StatusCode.DEADLINE_EXCEEDED


@pytest.mark.parametrize(
    "raw, field",
    [
        ({"args_json": "{not json"}, "args_json: not valid JSON"),
        ({"args_json": '"a string"'}, "args_json: must be a JSON object or array"),
        ({"args_json": "[NaN]"}, "args_json: not valid JSON"),
        ({"conversation_json": "[1, 2]"}, "conversation_json: must be a JSON object"),
        ({"conversation_json": '{"state": '}, "conversation_json: not valid JSON"),
        ({"conversation_json": '{"state": []}'}, "conversation_json.state"),
        ({"conversation_json": '{"bogus": 1}'}, "conversation_json.bogus"),
        ({"conversation_json": '{"secrets": {"k": "v"}}'}, "conversation_json.secrets"),
        ({"conversation_json": "[" * 100_000}, "conversation_json: "),
    ],
)
def test_malformed_json_is_invalid_argument_naming_the_field(running, version, raw, field):
    error = rpc_error(execute, running.stub, "acme", "add", version_id=version, **raw)
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert error.details().startswith(field), error.details()
    assert reason(error) == "INVALID_FIELD"


def test_execute_needs_a_target_and_a_function_name(running, version):
    request = pb.ExecuteRequest(tenant="acme", function="add")
    error = rpc_error(running.stub.Execute, request, metadata=auth())
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT and error.details().startswith("target")
    error = rpc_error(execute, running.stub, "acme", "not a name", version_id=version)
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT and error.details().startswith("function")


@pytest.mark.parametrize(
    "target, function, expected",
    [
        ({"version_id": "0" * 64}, "add", "VERSION_NOT_FOUND"),
        ({"alias": "nope"}, "add", "ALIAS_NOT_FOUND"),
        (None, "no_such_function", "FUNCTION_NOT_FOUND"),
    ],
)
def test_not_found_says_which_thing_is_missing(running, version, target, function, expected):
    target = target or {"version_id": version}
    error = rpc_error(execute, running.stub, "acme", function, **target)
    assert error.code() is grpc.StatusCode.NOT_FOUND
    assert reason(error) == expected
    info = [d for d in rich_details(error) if isinstance(d, error_details_pb2.ErrorInfo)]
    assert info[0].reason == expected and info[0].domain == "toolpool.v1"
    if expected == "FUNCTION_NOT_FOUND":  # the message lists what the version does define
        assert "; it defines: " in error.details() and "add" in error.details().rpartition("it defines: ")[2]


# -- versions -------------------------------------------------------------------------------


def test_get_version_by_id_and_alias_with_and_without_sources(running, version):
    by_alias = running.stub.GetVersion(pb.GetVersionRequest(tenant="acme", alias="latest"), metadata=auth())
    assert by_alias.version.version_id == version
    assert "latest" in by_alias.version.aliases
    assert list(by_alias.version.file_names) == ["tools.py"]
    assert not by_alias.files
    with_sources = running.stub.GetVersion(
        pb.GetVersionRequest(tenant="acme", version_id=version, include_sources=True), metadata=auth()
    )
    assert with_sources.files[0].source == TOOLS
    error = rpc_error(
        running.stub.GetVersion, pb.GetVersionRequest(tenant="acme", version_id="f" * 64), metadata=auth()
    )
    assert error.code() is grpc.StatusCode.NOT_FOUND and reason(error) == "VERSION_NOT_FOUND"


def test_list_versions_newest_first(running, version):
    other = deploy(running.stub, "acme", {"other.py": "def start_function(conv):\n    return 'x'\n"})
    listed = running.stub.ListVersions(pb.ListVersionsRequest(tenant="acme"), metadata=auth()).versions
    ids = [v.version_id for v in listed]
    assert set(ids) == {version, other.deployed.version_id}
    assert listed[0].created_unix_ms >= listed[-1].created_unix_ms
    empty = running.stub.ListVersions(pb.ListVersionsRequest(tenant="globex"), metadata=auth())
    assert list(empty.versions) == []


# -- secrets -------------------------------------------------------------------------------


def test_secrets_are_set_listed_used_and_deleted_but_never_read_back(running, version):
    stub = running.stub
    assert stub.SetSecret(
        pb.SetSecretRequest(tenant="acme", name="api_key", value="s3cr3t-value-1"), metadata=auth()
    ).created
    assert not stub.SetSecret(
        pb.SetSecretRequest(tenant="acme", name="api_key", value="s3cr3t-value-2"), metadata=auth()
    ).created
    names = stub.ListSecretNames(pb.ListSecretNamesRequest(tenant="acme"), metadata=auth())
    assert list(names.names) == ["api_key"]
    assert "s3cr3t" not in str(names)
    result = execute(stub, "acme", "secret_length", version_id=version, args={"name": "api_key"}).result
    assert result.status == pb.OK
    assert json.loads(result.state_json)["length"] == len("s3cr3t-value-2")
    assert "s3cr3t-value-2" not in result.SerializeToString().decode("utf-8", "replace")
    assert stub.DeleteSecret(pb.DeleteSecretRequest(tenant="acme", name="api_key"), metadata=auth()).deleted
    assert not stub.DeleteSecret(pb.DeleteSecretRequest(tenant="acme", name="api_key"), metadata=auth()).deleted
    gone = execute(stub, "acme", "secret_length", version_id=version, args={"name": "api_key"}).result
    assert gone.status == pb.RUNTIME_ERROR


def test_secret_names_and_sizes_are_checked(running):
    error = rpc_error(
        running.stub.SetSecret, pb.SetSecretRequest(tenant="acme", name="bad name", value="v"), metadata=auth()
    )
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT and error.details().startswith("name")
    error = rpc_error(
        running.stub.SetSecret,
        pb.SetSecretRequest(tenant="acme", name="big", value="x" * (64 * 1024 + 1)),
        metadata=auth(),
    )
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert error.details() == "value: 65537 bytes; upload.secret_bytes is 65536 for tenant 'acme'"
    assert reason(error) == "UPLOAD_LIMIT"
    for rpc, request in (
        (running.stub.SetSecret, pb.SetSecretRequest(tenant="acme", name="k" * 129, value="v")),
        (running.stub.DeleteSecret, pb.DeleteSecretRequest(tenant="acme", name="k" * 129)),
    ):
        error = rpc_error(rpc, request, metadata=auth())
        assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
        assert error.details() == "name: 129 characters, more than the limit of 128 for a secret's name"
    assert running.stub.SetSecret(
        pb.SetSecretRequest(tenant="acme", name="k" * 128, value="x" * 64 * 1024), metadata=auth()
    ).created  # exactly at both limits


# -- health and reflection --------------------------------------------------------------------


def test_health_is_serving_without_credentials(running):
    stub = health_pb2_grpc.HealthStub(running.channel)
    for service in ("", "toolpool.v1.ToolPool"):
        response = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
        assert response.status == health_pb2.HealthCheckResponse.SERVING


def test_reflection_lists_the_services(running):
    stub = reflection_pb2_grpc.ServerReflectionStub(running.channel)
    responses = stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5)
    names = {s.name for r in responses for s in r.list_services_response.service}
    assert {"toolpool.v1.ToolPool", "grpc.health.v1.Health"} <= names


# -- the service never falls over ---------------------------------------------------------------


def test_garbage_bytes_do_not_crash_the_server(running, version):
    raw = running.channel.unary_unary("/toolpool.v1.ToolPool/Execute")
    error = rpc_error(raw, b"\xff\xff\xff\xff garbage", metadata=auth(), timeout=5)
    assert error.code() in (grpc.StatusCode.INTERNAL, grpc.StatusCode.INVALID_ARGUMENT)
    assert execute(running.stub, "acme", "start_function", version_id=version).result.status == pb.OK


def test_unknown_method_is_unimplemented(running):
    raw = running.channel.unary_unary("/toolpool.v1.ToolPool/Nope")
    error = rpc_error(raw, b"", metadata=auth(), timeout=5)
    assert error.code() is grpc.StatusCode.UNIMPLEMENTED
