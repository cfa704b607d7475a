"""N calls under random faults: children and the template are killed while calls run.

Every one of the N calls must come back with an answer from the server: a verdict (a
call whose child was killed gets one too) or a typed refusal (admission, or the pool
while its template restarts). The server's log must hold exactly one line per verdict
the clients received and none for a call they did not see run; afterwards the server
serves again and its process tree comes back to rest.
"""

from __future__ import annotations

import os
import random

from tests.faults import support
from tests.faults.support import ANY_TOKEN, FaultServer
from tests.soak.run import ADMISSION, READY, Chaos, deploy_tenants
from worker._proto.toolpool.v1 import toolpool_pb2_grpc as pb_grpc

N = 150
CALLS = (
    ("good", {"n": 1}, 0),
    ("nap", {"ms": 150}, 2000),
    ("spin", {}, 300),
    ("crash", {}, 3000),
    ("start_function", {}, 0),
)


def test_n_calls_under_random_kills_get_n_answers(tmp_path):
    seed = int(os.environ.get("TOOLPOOL_CHAOS_SEED", random.randrange(1 << 30)))
    print(f"\nchaos seed {seed} (TOOLPOOL_CHAOS_SEED={seed} reproduces the schedule of calls)")
    rng = random.Random(seed)
    server = FaultServer(support.write_fault_config(tmp_path, pool={"ready_children": READY}, admission=ADMISSION))
    try:
        versions = deploy_tenants(server)
        with server.channel() as channel:
            stub = pb_grpc.ToolPoolStub(channel)
            requests = []
            for i in range(N):
                function, args, deadline = rng.choice(CALLS)
                tenant = rng.choice(sorted(versions))
                requests.append(
                    support.execute_request(
                        tenant,
                        function,
                        version_id=versions[tenant],
                        args=args,
                        deadline_ms=deadline,
                        call_id=f"chaos-{i}",
                    )
                )
            chaos = Chaos(server, seed)
            chaos.start()
            try:
                answers = support.run_concurrently(
                    [lambda r=r: support.execute(stub, r, token=ANY_TOKEN, timeout=30) for r in requests], width=6
                )
            finally:
                chaos.stop()
            print(f"faults injected: {dict(chaos.done)}")
            assert chaos.done["child"] >= 5, "the chaos barely happened; the test proved little"
            assert len(answers) == N
            silent = [a.describe() for a in answers if not a.from_server]
            assert not silent, f"{len(silent)} of {N} calls got no answer from the server: {silent[:5]}"
            for answer in answers:
                if not answer.is_verdict:
                    assert (answer.code, answer.reason) in {
                        ("RESOURCE_EXHAUSTED", "OVERLOADED"),
                        ("RESOURCE_EXHAUSTED", "TENANT_LIMIT"),
                        ("UNAVAILABLE", "POOL_UNAVAILABLE"),
                    }, answer.describe()
            logged = support.calls_in_log(server.log())
            for request, answer in zip(requests, answers, strict=False):
                expected = [answer.status] if answer.is_verdict else []
                assert logged.get(request.call_id, []) == expected, (
                    f"{request.call_id}: the client got {answer.describe()}, the server logged "
                    f"{logged.get(request.call_id)}"
                )
            assert server.alive()
            tenant = sorted(versions)[0]
            recovered = support.execute(
                stub, support.execute_request(tenant, "good", version_id=versions[tenant]), token=ANY_TOKEN
            )
            assert recovered.status == "ok", recovered.describe()
            support.wait_for_rest(server.pid, READY)
            processes = support.tree(server.pid)
        assert server.terminate() == 0
        support.assert_all_gone(processes)
    finally:
        server.kill()
