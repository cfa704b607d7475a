"""``worker.client``, kept for the orchestrators that import it: the client now lives in
``toolpool.client`` (``toolpool.Client``, ``toolpool.AsyncClient``); these are the same
objects under their old names, with the same signatures. New code imports ``toolpool``."""

from __future__ import annotations

from toolpool.client import (  # noqa: F401 - re-exports
    DEFAULT_TIMEOUT_S,
    MAX_ATTEMPTS,
    MAX_RESENDS,
    REPLY_SLACK_S,
    SERVICE_CONFIG,
    SERVICE_NAME,
    CompileFailed,
    Deployment,
    Executed,
    channel_options,
    default_channel_options,
    replicas_target,
)
from toolpool.client import AsyncClient as AsyncToolpoolClient
from toolpool.client import CallError as ToolpoolCallError
from toolpool.client import Client as ToolpoolClient
from toolpool.retries import may_have_run as _may_have_run  # noqa: F401 - the old private names, for tests
from toolpool.retries import never_sent_error as _never_sent  # noqa: F401
from toolpool.retries import retry_delay as _retry_delay  # noqa: F401

__all__ = [
    "AsyncToolpoolClient",
    "CompileFailed",
    "Deployment",
    "Executed",
    "ToolpoolCallError",
    "ToolpoolClient",
    "channel_options",
    "default_channel_options",
    "replicas_target",
]
