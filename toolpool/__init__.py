"""toolpool's public Python API: the client, the result and error types; ``toolpool.testing``
for customers' pytest suites and ``toolpool.tool`` for editors are submodules.

    import toolpool

    with toolpool.Client("localhost:50051", token) as client:
        client.deploy("acme", {"tool.py": source}, alias="live")
        result = client.execute("acme", "start_function", alias="live", conversation={"state": {}})
        assert result.status == toolpool.Status.OK

What it loads: the names below are loaded on first use (PEP 562), so ``toolpool.tool``,
the pytest plugin and ``toolpool --version`` do not pay for grpc. ``toolpool.Client`` and
``toolpool.AsyncClient`` load grpc, the generated stubs and this package's modules: never
RestrictedPython, ``sqlite3``, psycopg or anything of ``sandbox/`` or the service
(``tests/toolpool/test_light_client.py`` checks ``sys.modules`` in a fresh interpreter).
``toolpool.testing`` runs tools in the real confined sandbox, so it loads the sandbox.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "AsyncClient": "toolpool.client",
    "CallError": "toolpool.client",
    "Client": "toolpool.client",
    "CompileFailed": "toolpool.client",
    "Deployment": "toolpool.client",
    "Executed": "toolpool.client",
    "replicas_target": "toolpool.client",
    "ErrorInfo": "toolpool.result",
    "Result": "toolpool.result",
    "Status": "toolpool.result",
    "Usage": "toolpool.result",
}

__all__ = [*sorted(_EXPORTS), "__version__"]

if TYPE_CHECKING:  # what editors and type checkers see (``X as X``: re-exported); at run time __getattr__ loads them
    from toolpool.client import AsyncClient as AsyncClient
    from toolpool.client import CallError as CallError
    from toolpool.client import Client as Client
    from toolpool.client import CompileFailed as CompileFailed
    from toolpool.client import Deployment as Deployment
    from toolpool.client import Executed as Executed
    from toolpool.client import replicas_target as replicas_target
    from toolpool.result import ErrorInfo as ErrorInfo
    from toolpool.result import Result as Result
    from toolpool.result import Status as Status
    from toolpool.result import Usage as Usage


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'toolpool' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
