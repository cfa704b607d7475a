"""Optional mTLS (a token bound to a client certificate) and secret hygiene: secret values
never appear in the server's logs or in any response."""

from __future__ import annotations

import logging
import shutil
import subprocess

import grpc
import pytest

from tests.integration.harness import ORCH_TOKEN, TOOLS, auth, deploy, execute
from worker._proto.toolpool.v1 import toolpool_pb2 as pb
from worker._proto.toolpool.v1 import toolpool_pb2_grpc as pb_grpc
from worker.config import load_config
from worker.server import ToolpoolServer

SECRET = "hygiene-secret-value-0123456789"


def test_secret_values_never_reach_logs_or_responses(running, caplog):
    caplog.set_level(logging.DEBUG, logger="toolpool")
    stub = running.stub
    version = deploy(
        stub,
        "acme",
        {
            "leaky.py": TOOLS
            + (
                "\n\ndef leak(conv):\n"
                "    value = conv.utils.get_secret('hygiene')\n"
                "    log.warning('the secret is ' + value)\n"
                "    conv.state.copy = value\n"
                "    raise ValueError('leaking ' + value)\n"
            )
        },
    ).deployed.version_id
    stub.SetSecret(pb.SetSecretRequest(tenant="acme", name="hygiene", value=SECRET), metadata=auth())
    responses = [
        execute(stub, "acme", "leak", version_id=version),
        execute(stub, "acme", "secret_length", version_id=version, args={"name": "hygiene"}),
        stub.ListSecretNames(pb.ListSecretNamesRequest(tenant="acme"), metadata=auth()),
        stub.GetVersion(pb.GetVersionRequest(tenant="acme", version_id=version, include_sources=True), metadata=auth()),
        stub.ListVersions(pb.ListVersionsRequest(tenant="acme"), metadata=auth()),
    ]
    assert responses[0].result.status == pb.RUNTIME_ERROR
    for response in responses:
        assert SECRET not in response.SerializeToString().decode("utf-8", "replace")
    # A bad secret request must not echo the value either.
    with pytest.raises(grpc.RpcError) as refused:
        stub.SetSecret(pb.SetSecretRequest(tenant="acme", name="bad name", value=SECRET), metadata=auth())
    assert SECRET not in refused.value.details()
    assert "hygiene" in caplog.text  # the name is logged ...
    assert SECRET not in caplog.text  # ... never the value


def openssl(*args: str, cwd) -> None:
    done = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def make_pki(directory) -> None:
    assert shutil.which("openssl"), "the mTLS test needs the openssl command"
    openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "1",
        "-subj",
        "/CN=toolpool-test-ca",
        cwd=directory,
    )
    for name, extra in (
        ("server", ["-addext", "subjectAltName=DNS:localhost"]),
        ("orchestrator", []),
        ("intruder", []),
    ):
        openssl(
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            f"{name}.key",
            "-out",
            f"{name}.csr",
            "-subj",
            f"/CN={name}",
            *extra,
            cwd=directory,
        )
        ext = directory / f"{name}.ext"
        ext.write_text("subjectAltName=DNS:localhost\n" if name == "server" else "extendedKeyUsage=clientAuth\n")
        openssl(
            "x509",
            "-req",
            "-in",
            f"{name}.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            f"{name}.pem",
            "-days",
            "1",
            "-extfile",
            str(ext),
            cwd=directory,
        )


@pytest.fixture(scope="module")
def mtls(tmp_path_factory):
    directory = tmp_path_factory.mktemp("mtls")
    make_pki(directory)
    config_file = directory / "toolpool.toml"
    config_file.write_text(
        f'host = "127.0.0.1"\nport = 0\ndb_path = "{directory / "db"}"\n'
        f'[tls]\ncert_file = "{directory / "server.pem"}"\nkey_file = "{directory / "server.key"}"\n'
        f'client_ca_file = "{directory / "ca.pem"}"\n'
        f'[[clients]]\nname = "orchestrator"\ntoken = "{ORCH_TOKEN}"\ntenants = ["acme"]\n'
        'tls_common_name = "orchestrator"\n'
    )
    server = ToolpoolServer(load_config(config_file, env={"HOME": str(directory)}))
    server.start()
    yield directory, server.port
    server.stop(grace_s=5)


def tls_channel(directory, port, client: str | None) -> grpc.Channel:
    credentials = grpc.ssl_channel_credentials(
        root_certificates=(directory / "ca.pem").read_bytes(),
        private_key=(directory / f"{client}.key").read_bytes() if client else None,
        certificate_chain=(directory / f"{client}.pem").read_bytes() if client else None,
    )
    return grpc.secure_channel(f"localhost:{port}", credentials)


def test_mtls_with_the_bound_certificate_works(mtls):
    directory, port = mtls
    with tls_channel(directory, port, "orchestrator") as channel:
        stub = pb_grpc.ToolPoolStub(channel)
        version = deploy(stub, "acme").deployed.version_id
        assert execute(stub, "acme", "start_function", version_id=version).result.status == pb.OK


def test_mtls_without_a_client_certificate_cannot_connect(mtls):
    directory, port = mtls
    with tls_channel(directory, port, None) as channel, pytest.raises(grpc.RpcError) as error:
        pb_grpc.ToolPoolStub(channel).ListSecretNames(
            pb.ListSecretNamesRequest(tenant="acme"), metadata=auth(), timeout=5
        )
    assert error.value.code() is grpc.StatusCode.UNAVAILABLE


def test_a_token_used_with_another_certificate_is_unauthenticated(mtls):
    directory, port = mtls
    with tls_channel(directory, port, "intruder") as channel, pytest.raises(grpc.RpcError) as error:
        pb_grpc.ToolPoolStub(channel).ListSecretNames(
            pb.ListSecretNamesRequest(tenant="acme"), metadata=auth(), timeout=5
        )
    assert error.value.code() is grpc.StatusCode.UNAUTHENTICATED
    assert "orchestrator" in error.value.details()
