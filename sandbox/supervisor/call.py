"""What the supervisor is asked to run, and its translation into a child request.

``CallRequest`` is the library's input: tenant, compiled bundle, function, the caller's
checked input (``CallInput``: conversation in the conv.json shape, and arguments),
secrets, deadline and policy. Each part is checked once, where it enters:

* the conversation and arguments by ``validate_input``, at the caller's edge (the
  service's ``worker/translate.py``, before admission; a library caller before it builds
  its ``CallRequest``), into the ``CallInput`` that travels unchanged to the child;
* the deadline is made once, by the service (``worker.service.ToolService.deadline``) or
  by ``requested_deadline`` for a library caller, and ``prepare`` only holds it to the
  tool kind's cap (``sandbox/deadline.py``);
* the call id gets its default once, where the call enters: ``CallRequest``'s own
  default for a library caller, the servicer's for an RPC; below, it is taken as given.

``prepare`` checks what is left (tenant, function, the tenant's secrets, the egress
policy) and builds what the child receives. Runs in the supervisor; trusts the bundle
(compiled by ``sandbox.compile.compiler``) and nothing in the conversation.
"""

from __future__ import annotations

import dataclasses
import marshal
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sandbox.bundles import Bundle, CompiledTool
from sandbox.deadline import Deadline
from sandbox.egress.errors import EgressRecord
from sandbox.egress.policy import EgressPolicy
from sandbox.errors import FunctionNotFound, InvalidInput
from sandbox.policy import DEFAULT_POLICY, Policy
from sandbox.supervisor.normalize import validate_args, validate_conversation

_SECRET_NAME_MAX = 256


@dataclass(frozen=True)
class CallInput:
    """The caller's conversation and arguments, checked: what ``validate_input`` makes,
    and the only form in which they reach ``prepare``, which takes them as they are.

    ``conversation`` has every key of the conv.json shape filled, except ``secrets``,
    which are taken out into ``secrets`` (the supervisor decides where secrets travel).
    The supervisor never changes any of it; the child decodes a copy of its own."""

    conversation: dict[str, Any]
    secrets: dict[str, str]
    args: dict[str, Any] | list[Any]


def validate_input(
    conversation: Mapping[str, Any] | None = None, args: Any = None, *, owned: bool = False
) -> CallInput:
    """The caller's conversation (conv.json shape; None: empty) and arguments (a JSON object or
    array; None: none), checked and copied (``sandbox.supervisor.normalize``).
    ``owned``: the caller just parsed ``conversation`` from JSON and alone holds it, so its
    plain data is checked where it lies instead of copied. Raises ``InvalidInput`` naming the
    field (``conv.state.x``, ``args[0]``)."""
    if isinstance(conversation, Mapping) and type(conversation) is not dict:
        conversation = dict(conversation)  # a mapping of another kind, read as the dict it holds
    conv = validate_conversation(conversation, owned=owned)  # a dict of our own: the secrets come out
    secrets = conv.pop("secrets")
    return CallInput(conversation=conv, secrets=secrets, args=validate_args(args))


def requested_deadline(deadline_ms: int | None) -> Deadline | None:
    """A library caller's ``deadline_ms`` as the call's deadline, that many ms from now;
    None or 0 leave it to the pool (the tool kind's default). ``prepare`` caps it either
    way. Raises ``InvalidInput`` for anything but a non-negative integer."""
    if deadline_ms is None:
        return None
    if type(deadline_ms) is not int or deadline_ms < 0:
        raise InvalidInput("deadline_ms", "must be a non-negative integer")
    return Deadline.after(deadline_ms) if deadline_ms else None


def new_call_id() -> str:
    """A call id for a call whose caller gave none."""
    return uuid.uuid4().hex


@dataclass(frozen=True)
class CallRequest:
    tenant: str
    bundle: Bundle
    function: str
    input: CallInput = field(default_factory=validate_input)
    # The tenant's secrets, added to any the conversation carried.
    secrets: Mapping[str, str] = field(default_factory=dict)
    # When the call must end (sandbox/deadline.py); None: the tool kind's default, counted
    # from ``prepare``. Either way no later than the tool kind's cap from ``prepare``.
    deadline: Deadline | None = None
    policy: Policy = DEFAULT_POLICY
    call_id: str = field(default_factory=new_call_id)
    # Outbound HTTP (issue 8): the tenant's egress policy, enforced by the supervisor
    # (sandbox/egress/). None: no egress at all, every request refused naming its host.
    egress: EgressPolicy | None = None


@dataclass(frozen=True)
class PreparedCall:
    """A checked call, ready to send: everything the verdict logic needs later."""

    request: CallRequest
    call_id: str
    tool: CompiledTool
    conv: dict[str, Any]
    secrets: dict[str, str]
    deadline: Deadline
    child_request: dict[str, Any]  # what the child receives, but for its time (``frame``)
    # What the call did through egress (requests, bytes, log lines); filled by the
    # supervisor while the call runs, read by the verdict. Mutable, owned by the call.
    egress: EgressRecord = field(default_factory=EgressRecord, compare=False, repr=False)

    @property
    def state_before(self) -> dict[str, Any]:
        state: dict[str, Any] = self.conv["state"]  # a dict: validate_conversation checked it
        return state

    def frame(self) -> bytes:
        """The frame the child receives, built as it is sent.

        The child is another process, which arms its own wall-clock timer: what crosses
        to it is not the deadline's instant but the time remaining until it, computed
        once, here, at the moment of sending (rounded up, so that the child's timer never
        ends the call before the supervisor's deadline does).
        """
        # Plain data of exact builtin types only (everything was checked or built by
        # prepare), marshaled: the trusted direction, about 15x cheaper than JSON both
        # ways for a state.
        return marshal.dumps((self.tool.code, {**self.child_request, "deadline_ms": self.deadline.remaining_ms()}))


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
    """Check what the caller's edge did not, and build the call's child request.

    Raises InvalidInput for the caller's malformed input and FunctionNotFound when the
    bundle has no such function (a tool failure: it becomes a ``not_found`` result).
    """
    if type(request.tenant) is not str or not request.tenant:
        raise InvalidInput("tenant", "must be a non-empty string")
    if type(request.function) is not str or not request.function.isidentifier():
        raise InvalidInput("function", f"{request.function!r} is not a function name")
    if type(request.input) is not CallInput:
        raise InvalidInput("input", "must be a CallInput (sandbox.supervisor.call.validate_input)")
    if request.deadline is not None and type(request.deadline) is not Deadline:
        raise InvalidInput("deadline", "must be a sandbox.deadline.Deadline or None")
    conv = request.input.conversation  # checked at the caller's edge (validate_input)
    secrets = {**request.input.secrets, **_validate_secrets(request.secrets, "secrets")}
    if request.egress is not None and not isinstance(request.egress, EgressPolicy):
        raise InvalidInput("egress", "must be an EgressPolicy or None")
    filename = request.bundle.functions.get(request.function)
    if filename is None:
        raise FunctionNotFound(f"no function named {request.function!r} in version {request.bundle.version_id[:12]}")
    tool = request.bundle.files[filename]
    limits = request.policy.limits
    cap = Deadline.after(limits.deadline_for(request.function, None))
    deadline = cap if request.deadline is None else request.deadline.within(cap)
    child_request = {
        "call_id": request.call_id,
        "tenant": request.tenant,
        "function": request.function,
        "filename": tool.filename,
        "source": tool.source,
        "args": request.input.args,
        "conv": conv,
        "secrets": secrets,
        "policy": request.policy.frame_spec,
        "limits": dataclasses.asdict(limits),
    }
    return PreparedCall(
        request=request,
        call_id=request.call_id,
        tool=tool,
        conv=conv,
        secrets=secrets,
        deadline=deadline,
        child_request=child_request,
    )
