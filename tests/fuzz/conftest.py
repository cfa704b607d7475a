"""One real server (a subprocess) for the fuzz tests, with canaries planted in another tenant.

Tenant ``globex`` gets a secret, a secret name and tool source that each carry a canary
string; tenant ``acme`` has its own secret canary. The fuzzers act as tenant ``acme``
with acme's own token (allowed acme only) and never draw a canary, so a canary in any
response, status message or metadata is a leak. The tokens of the other clients and
the server's own file paths are canaries too.

After every example: the server still runs. After every test: its process tree is at
rest (no leaked child), and its log holds no secret value and no token.
"""

from __future__ import annotations

import collections
import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass

import grpc
import pytest

from tests.faults import support
from tests.faults.support import ANY_TOKEN, FaultServer
from tests.integration.harness import ACME_TOKEN, GLOBEX_TOKEN, ORCH_TOKEN, auth
from worker._proto.toolpool.v1 import toolpool_pb2 as pb
from worker._proto.toolpool.v1 import toolpool_pb2_grpc as pb_grpc

READY = 2
MAX_MESSAGE = 512 * 1024

CANARY_SECRET_NAME = "canary_secret_name_x9"
CANARY_SECRET = "CANARY-SECRET-b4f1c2e98a7d4e1f"
CANARY_SOURCE = "CANARY-SOURCE-5d2e8f0a1c3b"
ACME_SECRET_NAME = "acme_own_key"
ACME_SECRET = "ACME-OWN-SECRET-7e9a0c1d2b3f"
ACME_OPERATOR_TOKEN = "acme-operator-token-0123456789"

GLOBEX_TOOLS = f'''
MARK = "{CANARY_SOURCE}"


def start_function(conv):
    conv.state.marker = MARK
    return MARK


def leak(conv):
    raise ValueError(MARK + conv.utils.get_secret("{CANARY_SECRET_NAME}"))
'''

# acme's tools for the fuzzers: each returns at once, whatever the arguments.
ACME_TOOLS = """
def start_function(conv):
    conv.state.greeted = True
    return "hi"


def echo(conv, *args, **kwargs):
    conv.state.args = [list(args), kwargs]
    return {"content": str(len(str(kwargs)))}


def raiser(conv, *args, **kwargs):
    raise ValueError(str(kwargs)[:200])


def peek(conv, name="api_key"):
    return conv.utils.get_secret(name)
"""

# grpc's own refusals: the request never reached the service.
GRPC_UNDECODABLE = "Exception deserializing request!"
GRPC_TOO_LARGE = "Received message larger than max"


@dataclass
class Target:
    server: FaultServer
    channel: grpc.Channel
    stub: pb_grpc.ToolPoolStub
    acme_version: str
    globex_version: str
    canaries: tuple[bytes, ...]
    seen: collections.Counter = dataclasses.field(default_factory=collections.Counter)

    def call(self, method: str, request, *, token: str = ACME_TOKEN, timeout: float = 30.0) -> support.Answer:
        bound = getattr(self.stub, method)
        return support.answer_of(
            lambda: bound.with_call(request, metadata=auth(token), timeout=timeout), getattr(request, "call_id", "")
        )

    def raw(self, method: str, payload: bytes, *, token: str = ACME_TOKEN) -> support.Answer:
        call = self.channel.unary_unary(f"/toolpool.v1.ToolPool/{method}")
        return support.answer_of(lambda: call.with_call(payload, metadata=auth(token), timeout=30))

    def check(self, answer: support.Answer, *, grpc_refusals: tuple[str, ...] = ()) -> None:
        """The invariants of every fuzzed request."""
        self.seen[f"{answer.status or answer.code} {answer.reason or ''}".strip()] += 1
        if answer.code == "INVALID_ARGUMENT":
            self.seen["  " + answer.details.split(":")[0][:40]] += 1
        assert self.server.alive(), f"the server died:\n{self.server.log()[-3000:]}"
        for canary in self.canaries:
            assert canary not in answer.raw, f"canary {canary[:24]!r} leaked: {answer.describe()}"
        if answer.is_verdict:
            return
        if answer.reason is not None:
            assert answer.code in {c.name for c in support.SERVER_CODES}, answer.describe()
            if answer.code == "DEADLINE_EXCEEDED":
                assert answer.reason == "DEADLINE_TOO_SHORT", answer.describe()
            if answer.code == "UNAVAILABLE":
                raise AssertionError(f"the service said it cannot serve: {answer.describe()}")
            return
        assert any(r in answer.details for r in grpc_refusals), (
            f"no typed status (a bug answered INTERNAL, or no answer at all): {answer.describe()}"
        )

    def assert_at_rest(self) -> None:
        print(f"\nanswers: {dict(self.seen.most_common())}")
        self.seen.clear()
        support.wait_for_rest(self.server.pid, READY)
        log = self.server.log()
        for secret in (CANARY_SECRET, ACME_SECRET, ORCH_TOKEN, ACME_TOKEN, GLOBEX_TOKEN, ANY_TOKEN):
            assert secret not in log, f"{secret[:16]}... reached the server's log"


@pytest.fixture(scope="package")
def target(tmp_path_factory) -> Iterator[Target]:
    directory = tmp_path_factory.mktemp("fuzz")
    config = support.write_fault_config(
        directory,
        top={"max_message_bytes": MAX_MESSAGE},
        pool={"ready_children": READY},
        admission={"max_concurrent": 4, "tenant_concurrency": 4},
    )
    with config.open("a") as handle:  # an operator for acme, who may set acme's egress policy
        handle.write(
            f'[[clients]]\nname = "acme-operator"\ntoken = "{ACME_OPERATOR_TOKEN}"\n'
            'tenants = ["acme"]\noperator = true\n'
        )
    server = FaultServer(config)
    try:
        channel = grpc.insecure_channel(server.target, options=[("grpc.max_send_message_length", 4 * MAX_MESSAGE)])
        stub = pb_grpc.ToolPoolStub(channel)
        globex = support.deploy(stub, "globex", {"tools.py": GLOBEX_TOOLS}, alias="latest").deployed.version_id
        stub.SetSecret(
            pb.SetSecretRequest(tenant="globex", name=CANARY_SECRET_NAME, value=CANARY_SECRET),
            metadata=auth(ORCH_TOKEN),
            timeout=10,
        )
        leaked = support.execute(stub, support.execute_request("globex", "leak", version_id=globex))
        assert leaked.status == "runtime_error" and CANARY_SOURCE in leaked.error_message  # globex sees its own
        acme = support.deploy(stub, "acme", {"tools.py": ACME_TOOLS}, alias="latest", token=ACME_TOKEN)
        stub.SetSecret(
            pb.SetSecretRequest(tenant="acme", name=ACME_SECRET_NAME, value=ACME_SECRET),
            metadata=auth(ACME_TOKEN),
            timeout=10,
        )
        canaries = (
            CANARY_SECRET,
            CANARY_SECRET_NAME,
            CANARY_SOURCE,
            ACME_SECRET,
            ORCH_TOKEN,
            GLOBEX_TOKEN,
            ANY_TOKEN,
            str(directory),
        )
        yield Target(server, channel, stub, acme.deployed.version_id, globex, tuple(c.encode() for c in canaries))
        channel.close()
        assert server.terminate() == 0
    finally:
        server.kill()
