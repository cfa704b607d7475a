"""The child's side of a call: read a request, run the tool, write a reply.

This module runs in the confined child, beside tenant code, after confinement. Nothing
it produces is trusted by the supervisor: the reply is plain JSON that the supervisor
parses with size caps and validates (``sandbox/supervisor/normalize.py``). Its job is to give the
supervisor the best description it can of what happened: the return value and state as
plain data, the effects of ``conv`` methods, the logs, and for a failure a status with
an error trimmed to the customer's own file and line.

``run_request`` is a pure function of (request, code) so that the in-process "floor"
baseline and unit tests can call it without a process around it.
"""

from __future__ import annotations

import gc
import json
import marshal
import math
import os
import resource
import signal
import sys
import types
from typing import Any

from sandbox import protocol
from sandbox.child import channel
from sandbox.child.channel import REQUEST_CAP
from sandbox.child.conv import Conversation
from sandbox.child.guards import context_of, make_globals, module_name_for
from sandbox.child.limits import lower_rlimit
from sandbox.child.logs import Log
from sandbox.child.modules import copying
from sandbox.child.tracebacks import clean, describe, trimmed_traceback
from sandbox.child.values import UnstorableValue, to_plain, type_name
from sandbox.compile import worker as compile_worker

# Exit codes the supervisor's verdict logic understands (see sandbox/supervisor/verdict.py).
EXIT_OK = protocol.EXIT_OK
EXIT_MEMORY = protocol.EXIT_MEMORY
EXIT_INTERNAL = protocol.EXIT_INTERNAL


def prepare_process() -> None:
    """The patches this process needs before it runs tool code: made once by the template
    (and by a process that serves calls itself, like the bench's floor), never on import,
    so that a supervisor importing this module for its tests keeps the standard library as
    it is. The runtime's own objects are never copied for a tool (copy.copy, deepcopy, and
    the dataclasses helpers built on them): rebuilding one through __reduce_ex__ would make
    a platform object behind its constructor."""
    copying.refuse_copies_of_runtime_classes()


def _json_size(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())


def _failure(
    status: str,
    kind: str,
    message: str,
    *,
    file: str | None = None,
    line: int | None = None,
    traceback: str | None = None,
) -> dict[str, Any]:
    return {
        "outcome": "failed",
        "status": status,
        "error": {"kind": kind, "message": message, "file": file, "line": line, "traceback": traceback},
    }


def _usage() -> dict[str, Any]:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return {"cpu_ms": (ru.ru_utime + ru.ru_stime) * 1000.0, "peak_rss_bytes": ru.ru_maxrss * 1024}


def _call_tool(fn: types.FunctionType, conv: Conversation, args: Any) -> Any:
    if isinstance(args, list):
        return fn(conv, *args)
    return fn(conv, **args)


def _new_namespace(request: dict[str, Any], log: Log) -> dict[str, Any]:
    """A tool module's globals: the ``__dict__`` of a real module object registered under the
    file's module name, so standard library code that looks a class's module up in
    ``sys.modules`` (dataclasses with ``from __future__ import annotations``) finds it. A
    name already taken by a real module (a tool file named ``calendar.py``) is left alone."""
    filename = request["filename"]
    name = module_name_for(filename)
    module = types.ModuleType(name)
    namespace = make_globals(
        request["policy"], {"log": log, "Conversation": Conversation}, module_name=name, namespace=module.__dict__
    )
    if name not in sys.modules:
        sys.modules[name] = module
    return namespace


def _load_function(
    code_bytes: bytes, request: dict[str, Any], log: Log, namespace_cache: dict[str, dict[str, Any]] | None
) -> types.FunctionType | None:
    """Execute the module body (or reuse it in reuse mode) and find the function."""
    filename = request["filename"]
    namespace = namespace_cache.get(filename) if namespace_cache is not None else None
    if namespace is None:
        namespace = _new_namespace(request, log)
        _point_context(namespace, request, log)
        _KEEP.append(namespace)
        exec(marshal.loads(code_bytes), namespace)
        if namespace_cache is not None:
            namespace_cache[filename] = namespace
    else:
        namespace["log"] = log
        _point_context(namespace, request, log)
    fn = namespace.get(request["function"])
    if type(fn) is not types.FunctionType or fn.__code__.co_filename != filename:
        return None
    return fn


def _point_context(namespace: dict[str, Any], request: dict[str, Any], log: Log) -> None:
    context = context_of(namespace)
    context.log = log
    context.filename = request["filename"]
    context.source = request["source"]


# Everything a call's tool code made stays referenced until the process exits (or, in a
# reused child, until the next call starts with its timers armed): freeing it earlier
# would let a generator's ``finally`` or a finalizer run tool code in the reply path.
_KEEP: list[Any] = []


def _tool_phase_over() -> None:
    """From here on no tool code may run in this call: stop the cyclic collector, which
    could otherwise finalize the tool's objects (generators) while the reply is built."""
    gc.disable()


def run_request(
    request: dict[str, Any], code_bytes: bytes, namespace_cache: dict[str, dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Run one call and describe its outcome as plain data. Never raises.

    ``request`` is the call's own, freshly decoded request: the tool's ``conv.state`` is
    built on it in place.

    Tool code runs only in the first phase (the module body, the function, and an
    exception's text, which may come from a tool-defined ``__str__``); the rest converts
    exact builtin types only."""
    limits = request["limits"]
    filename = request["filename"]
    log = Log(limits)
    reply: dict[str, Any]
    _KEEP.clear()  # the previous call's objects (a reused child), freed under this call's timers
    gc.enable()
    try:
        # The request was decoded for this call alone (marshal.loads of its frame) and
        # nothing reads its state after the tool: the tool gets that state, not a copy.
        conv = Conversation(
            request["conv"], function=request["function"], secrets=request["secrets"], log=log, copy_state=False
        )
        _KEEP.append(conv)
        fn = _load_function(code_bytes, request, log, namespace_cache)
        if fn is None:
            reply = _failure(
                "not_found", "NotFound", f"{filename} defines no function named {request['function']!r}", file=filename
            )
        else:
            returned = _call_tool(fn, conv, request["args"])
            _KEEP.append(returned)
            _tool_phase_over()
            reply = _describe_return(returned, conv, limits)
    except MemoryError:
        _tool_phase_over()
        reply = _failure(
            "memory_limit",
            "MemoryLimit",
            f"the tool exceeded its memory limit of {limits['memory_bytes']} bytes",
            file=filename,
        )
    except BaseException as exc:  # noqa: BLE001 - every tool exception is a runtime_error result
        text, line = trimmed_traceback(exc, filename, request["source"])
        message = describe(exc)
        _KEEP.append(exc)
        _tool_phase_over()
        reply = _failure(
            "runtime_error", clean(type_name(type(exc)), 200), message, file=filename, line=line, traceback=text
        )
    reply["logs"] = log._export()
    reply["log_overflow"] = log.overflowed
    return reply


def _describe_return(returned: Any, conv: Conversation, limits: dict[str, Any]) -> dict[str, Any]:
    try:
        plain_return = to_plain(returned, "return")
    except UnstorableValue as exc:
        return _failure("invalid_return", "InvalidReturn", str(exc))
    try:
        changes = conv._export_changes()
    except UnstorableValue as exc:
        return _failure("runtime_error", "StateValueError", str(exc))
    if _json_size(plain_return) > limits["return_bytes"]:
        return _failure("output_limit", "OutputLimit", f"the return value exceeds {limits['return_bytes']} bytes")
    # Only what changed travels: the supervisor applies it to the state it sent, which it
    # holds, and checks the whole state against the cap. What changed alone can be over.
    if _json_size(changes["set"]) > limits["state_bytes"]:
        return _failure("output_limit", "OutputLimit", f"the state exceeds {limits['state_bytes']} bytes")
    reply = {
        "outcome": "returned",
        "return": plain_return,
        "state_set": changes["set"],
        "state_deleted": changes["deleted"],
        "effects": conv._effects(),
    }
    if "order" in changes:
        reply["state_order"] = changes["order"]
    return reply


def _apply_call_limits(limits: dict[str, Any], max_calls: int) -> None:
    """Lower the ceiling rlimits the child was confined with to this call's values.

    Lowering a hard limit is irreversible. A reused child (max_calls > 1) keeps the
    limits of its first call (same tenant, same tool) and a CPU budget for all its calls.
    """
    mem = limits["memory_bytes"]
    lower_rlimit(resource.RLIMIT_AS, mem, mem)
    used = resource.getrusage(resource.RUSAGE_SELF)
    # The precise per-call limit is the ITIMER_PROF armed with each call's deadline; this
    # whole-second rlimit is the backstop, so it rounds the CPU already spent up, never
    # down (rounding down fired it up to a second early, before the call's deadline).
    soft = math.ceil(used.ru_utime + used.ru_stime) + limits["cpu_seconds"] * max_calls
    _, ceiling = resource.getrlimit(resource.RLIMIT_CPU)
    if ceiling != resource.RLIM_INFINITY:
        soft = min(soft, ceiling - 1)
    # Soft below hard so that an overrun is a distinct SIGXCPU before the SIGKILL.
    lower_rlimit(resource.RLIMIT_CPU, soft, soft + 1)


def _encode_reply(reply: dict[str, Any]) -> bytes:
    try:
        return json.dumps(reply, ensure_ascii=False, separators=(",", ":")).encode()
    except (TypeError, ValueError, RecursionError):
        # to_plain guarantees plain data; reaching this is a runtime bug, said so plainly.
        return json.dumps(_failure("internal_error", "InternalError", "reply could not be encoded")).encode()


def _announce_file(filename: str) -> None:
    """Tells the supervisor which file the compile starts (a NOTE: no answer awaited)."""
    channel.send_note({"op": "compiling", "file": filename})


def _compile(request: dict[str, Any], channel_fd: int) -> None:
    """Serve one compile (``sandbox/compile/worker.py``) and answer with its frame."""
    try:
        payload = compile_worker.compile_request(request, _announce_file)
    except MemoryError:
        os._exit(EXIT_MEMORY)
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.setitimer(signal.ITIMER_PROF, 0)
    protocol.write_frame(channel_fd, protocol.ANSWER, payload)


def serve(channel_fd: int, *, max_calls: int = 1) -> None:
    """Serve up to ``max_calls`` requests on the channel, then exit the process.

    After each reply the child waits for the next request or for EOF: the supervisor
    reads the child's kernel usage figures while it is still alive, then closes.
    """
    # The template set SIGALRM to its default action: the deadline timer kills outright.
    namespace_cache: dict[str, dict[str, Any]] | None = {} if max_calls > 1 else None
    channel.attach(channel_fd)
    calls = 0
    while calls < max_calls:
        frame = protocol.read_frame(channel_fd, REQUEST_CAP)
        if frame is None:
            break
        code_bytes, request = marshal.loads(frame)  # decoded afresh: this call owns it
        del frame  # its pages go back to the allocator before the tool's own allocations
        if request.get("op") == "selftest":
            from sandbox.child.probes import run_probes  # pre-imported by the template

            protocol.write_frame(channel_fd, protocol.ANSWER + json.dumps({"probes": run_probes()}).encode())
            break
        if request.get("op") == "compile":
            _compile(request, channel_fd)
            break
        if calls == 0:
            _apply_call_limits(request["limits"], max_calls)
        # Two timers, both ending the process by default action: the wall-clock deadline
        # (SIGALRM) and the call's CPU budget (SIGPROF). The CPU budget is armed only when
        # it is shorter than the deadline: otherwise the deadline binds first, and the
        # kernel's tick-sampled CPU clock (it can run a tick or two ahead of wall time)
        # must not turn a timeout into a cpu_limit a few ms early. ``deadline_ms`` is the
        # time the call's deadline left when the supervisor sent this frame (rounded up).
        deadline_s = max(request["deadline_ms"], 1) / 1000.0
        cpu_s = request["limits"]["cpu_seconds"]
        signal.setitimer(signal.ITIMER_REAL, deadline_s)
        if cpu_s < deadline_s:
            signal.setitimer(signal.ITIMER_PROF, cpu_s)
        try:
            reply = run_request(request, code_bytes, namespace_cache)
            reply["usage"] = _usage()
            payload = _encode_reply(reply)
        except MemoryError:
            os._exit(EXIT_MEMORY)
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.setitimer(signal.ITIMER_PROF, 0)
        protocol.write_frame(channel_fd, protocol.ANSWER, payload)
        calls += 1
    # Wait for the supervisor to close its end (it reads /proc usage first).
    while protocol.read_frame(channel_fd, REQUEST_CAP) is not None:
        pass
    os._exit(EXIT_OK)
