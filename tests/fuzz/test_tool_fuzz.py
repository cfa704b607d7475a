"""Random tool sources and random ASTs, deployed to a real server and, when they compile, run.

Sources come three ways: any text, Python-like line soup (``tests.test_compiler_totality``'s
generator) and random syntax trees built node by node and written out with
``ast.unparse``; the trees reach for dunder attributes, forbidden modules and
builtins, nested functions and classes, loops that never end. Deploy must answer with
the version or with compile errors that name a file of the bundle and a line; each
function of a deployed version is then run with a short deadline and must come back
as a verdict. The server's invariants (``Target.check``) hold after every example, and
no child outlives a test.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.strategies import tool_modules
from tests.test_compiler_totality import python_like
from worker._proto.toolpool.v1 import toolpool_pb2 as pb

TOOLS_FUZZ = settings(
    max_examples=120,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)


def deploy_and_run(target, source: str) -> None:
    request = pb.DeployRequest(tenant="acme", files=[pb.SourceFile(name="tool.py", source=source)])
    deployed = target.call("Deploy", request)
    target.check(deployed)
    if deployed.code is not None:
        assert deployed.code == "INVALID_ARGUMENT", deployed.describe()  # too big, not a name problem here
        return
    response = deployed.response
    if response.WhichOneof("outcome") == "compile_errors":
        target.seen["compile_error"] += 1
        for error in response.compile_errors.errors:
            assert error.file in ("tool.py", "") and error.message, error
        return
    for function in list(response.deployed.functions)[:2]:
        run = pb.ExecuteRequest(
            tenant="acme",
            version_id=response.deployed.version_id,
            function=function,
            deadline_ms=300,
            conversation_json='{"state": {"n": 1}}',
        )
        answer = target.call("Execute", run, timeout=20)
        target.check(answer)
        assert answer.is_verdict, answer.describe()


def test_random_syntax_trees(target):
    @TOOLS_FUZZ
    @given(tool_modules())
    def run(source):
        deploy_and_run(target, source)

    run()
    target.assert_at_rest()


def test_random_sources(target):
    @TOOLS_FUZZ
    @given(st.one_of(st.text(max_size=400), python_like()))
    def run(source):
        deploy_and_run(target, source)

    run()
    target.assert_at_rest()
