"""What the supervisor is asked to run, and its translation into a child request.

``CallRequest`` is the library's input: tenant, compiled bundle, function, arguments,
conversation (the conv.json shape), secrets, deadline and policy. ``prepare`` validates
everything a caller supplies (raising ``InvalidInput`` that names the field) and builds
the frame the child receives. Runs in the supervisor; trusts the bundle (compiled by
``sandbox.compile.compiler``) and nothing in the conversation.
"""

from __future__ import annotations

import dataclasses
import marshal
import uuid
from dataclasses import dataclass, field
from typing import Any, Mapping

from sandbox.bundles import Bundle, CompiledTool
from sandbox.egress.errors import EgressRecord
from sandbox.egress.policy import EgressPolicy
from sandbox.errors import FunctionNotFound, InvalidInput
from sandbox.supervisor.normalize import ValidatedConversation, validate_args, validate_conversation
from sandbox.policy import DEFAULT_POLICY, Policy

_SECRET_NAME_MAX = 256


@dataclass(frozen=True)
class CallRequest:
    tenant: str
    bundle: Bundle
    function: str
    args: Any = field(default_factory=dict)
    conversation: Mapping[str, Any] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict)
    deadline_ms: int | None = None
    policy: Policy = DEFAULT_POLICY
    call_id: str = ""
    # Outbound HTTP (issue 8): the tenant's egress policy, enforced by the supervisor
    # (sandbox/egress/). None: no egress at all, every request refused naming its host.
    egress: EgressPolicy | None = None


@dataclass(frozen=True)
class PreparedCall:
    """A validated call, ready to send: everything the verdict logic needs later."""

    request: CallRequest
    call_id: str
    tool: CompiledTool
    conv: dict[str, Any]
    secrets: dict[str, str]
    deadline_ms: int
    frame: bytes
    # What the call did through egress (requests, bytes, log lines); filled by the
    # supervisor while the call runs, read by the verdict. Mutable, owned by the call.
    egress: EgressRecord = field(default_factory=EgressRecord, compare=False, repr=False)

    @property
    def state_before(self) -> dict[str, Any]:
        return self.conv["state"]


def _validate_secrets(secrets: Mapping[str, Any], field_name: str) -> dict[str, str]:
    if not isinstance(secrets, Mapping):
        raise InvalidInput(field_name, "must be an object mapping secret names to strings")
    out: dict[str, str] = {}
    for name, value in secrets.items():
        if type(name) is not str or not name or len(name) > _SECRET_NAME_MAX:
            raise InvalidInput(field_name, f"secret name {name!r} must be a non-empty string")
        if type(value) is not str:
            raise InvalidInput(f"{field_name}.{name}", "must be a string")
        out[name] = value
    return out


def prepare(request: CallRequest) -> PreparedCall:
    """Validate a call and build its child frame.

    Raises InvalidInput for the caller's malformed input and FunctionNotFound when the
    bundle has no such function (a tool failure: it becomes a ``not_found`` result).
    """
    if type(request.tenant) is not str or not request.tenant:
        raise InvalidInput("tenant", "must be a non-empty string")
    if type(request.function) is not str or not request.function.isidentifier():
        raise InvalidInput("function", f"{request.function!r} is not a function name")
    conv = request.conversation
    if type(conv) is not ValidatedConversation:
        conv = validate_conversation(dict(conv))
    # else: already checked and copied by validate_conversation on the caller's behalf, in
    # this process (the service does so at its boundary, worker/translate.py); a second
    # walk would repeat the same checks on the same, unchanged, trusted value.
    conv = dict(conv)  # an exact dict, for marshal; the top level only: the secrets go below
    conv_secrets = conv.pop("secrets", None) or {}
    secrets = _validate_secrets(conv_secrets, "conversation.secrets")
    secrets.update(_validate_secrets(request.secrets, "secrets"))
    args = validate_args(request.args)
    if request.egress is not None and not isinstance(request.egress, EgressPolicy):
        raise InvalidInput("egress", "must be an EgressPolicy or None")
    if request.deadline_ms is not None and (
        type(request.deadline_ms) is not int or request.deadline_ms < 0
    ):
        raise InvalidInput("deadline_ms", "must be a non-negative integer")
    filename = request.bundle.functions.get(request.function)
    if filename is None:
        raise FunctionNotFound(
            f"no function named {request.function!r} in version {request.bundle.version_id[:12]}"
        )
    tool = request.bundle.files[filename]
    limits = request.policy.limits
    deadline_ms = limits.deadline_for(request.function, request.deadline_ms)
    call_id = request.call_id or uuid.uuid4().hex
    child_request = {
        "call_id": call_id,
        "tenant": request.tenant,
        "function": request.function,
        "filename": tool.filename,
        "source": tool.source,
        "args": args,
        "conv": conv,
        "secrets": secrets,
        "policy": request.policy.frame_spec,
        "limits": dataclasses.asdict(limits),
        "deadline_ms": deadline_ms,
    }
    # Plain data of exact builtin types only (everything above was checked or built here),
    # marshaled: the trusted direction, about 15x cheaper than JSON both ways for a state.
    frame = marshal.dumps((tool.code, child_request))
    return PreparedCall(
        request=request,
        call_id=call_id,
        tool=tool,
        conv=conv,
        secrets=secrets,
        deadline_ms=deadline_ms,
        frame=frame,
    )
