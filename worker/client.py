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
