"""A stand-in template for tests/test_confine.py: prepare, fork, confine, attack, report.

``prepare_template`` changes the namespaces of the process that calls it, so tests never
call it in the pytest process. They run this script instead, as
``python -I tests/confine_harness.py`` with an empty environment, a JSON scenario on
stdin, and read one JSON report on stdout:

    scenario {"config": {ConfinementConfig fields}, "limits": {Limits fields},
              "attack": "source defining attack(ctx) -> JSON-able value",
              "as_user": uid or null     drop to this uid/gid first (an unprivileged user),
              "deny": null | "unshare" | "newnet"   a host that refuses these (seccomp),
              "sibling": bool            first fork a confined child that just waits,
              "orphan": bool             exit once the child is confined; report its pid
              "private_mounts": bool}    first move into a throwaway mount namespace, so
                                         that an unconfined run cannot mount on the host
    report   {"prepare": "ok" | {"feature", "detail"}, "mode", "warnings": [...],
              "result": value | null, "error": text | null,
              "exit": {"code", "signal", "signal_name"}, "child_pid"}

``ctx`` holds ``channel`` (the kept fd), ``tmp_bytes``, ``limits``, ``sibling_pid``,
``uid`` and ``template_pid``. The attack source is compiled and its top level run BEFORE
prepare_template, as the real template imports the runtime before it confines itself.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import signal
import socket
import sys
import time
import traceback

from sandbox.confine.child_side import confine_child
from sandbox.confine.config import ConfinementConfig, Prepared
from sandbox.confine.template_side import DEFAULT_PRELOAD, prepare_template
from sandbox.errors import ConfinementUnavailable
from sandbox.policy import Limits


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _deny(what: str) -> None:
    import pyseccomp

    flt = pyseccomp.SyscallFilter(pyseccomp.ALLOW)
    if what == "unshare":
        flt.add_rule(pyseccomp.ERRNO(1), "unshare")
    elif what == "newnet":
        flt.add_rule(pyseccomp.ERRNO(1), "unshare", pyseccomp.Arg(0, pyseccomp.MASKED_EQ, 0x40000000, 0x40000000))
    else:
        raise ValueError(what)
    flt.load()


def _private_mounts() -> None:
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.mount.argtypes = (ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p)
    if libc.unshare(0x00020000) != 0 or libc.mount(None, b"/", None, 0x4000 | 0x40000, None) != 0:
        raise OSError(ctypes.get_errno(), "private mount namespace for the harness")


def _drop_to(uid: int) -> None:
    import ctypes

    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    ctypes.CDLL(None).prctl(4, 1, 0, 0, 0)  # dumpable again, as after a normal login


def _child(prepared: Prepared, uid: int, limits: Limits, attack, ctx: dict, w: int) -> None:
    """Runs in the forked child; never returns."""
    try:
        confine_child(prepared, uid=uid, keep_fds=[w], limits=limits)
    except BaseException:  # noqa: BLE001 - reported, then the half-confined child exits
        os.write(w, json.dumps({"error": "confine_child: " + traceback.format_exc()}).encode())
        os._exit(70)
    try:
        ctx["channel"] = w
        value = attack(ctx)
        payload = json.dumps({"result": value})
    except BaseException:  # noqa: BLE001
        payload = json.dumps({"error": traceback.format_exc()})
    try:
        os.write(w, payload.encode())
    except OSError:
        os._exit(71)
    os._exit(0)


def _spawn(prepared, uid, limits, attack, ctx) -> tuple[int, int]:
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        _child(prepared, uid, limits, attack, ctx, w)
    os.close(w)
    return pid, r


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 1 << 16):
        chunks.append(chunk)
    os.close(fd)
    return b"".join(chunks)


def _describe_exit(status: int) -> dict:
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        return {"code": None, "signal": sig, "signal_name": signal.Signals(sig).name}
    return {"code": os.WEXITSTATUS(status), "signal": None, "signal_name": None}


def main() -> None:
    scenario = json.loads(sys.stdin.read())
    out = sys.stdout
    handler = _Collect()
    logging.getLogger("toolpool.confine").addHandler(handler)
    report: dict = {
        "prepare": "ok",
        "warnings": handler.messages,
        "result": None,
        "error": None,
        "exit": None,
        "child_pid": None,
        "mode": None,
    }

    namespace: dict = {}
    exec(compile(scenario.get("attack", "def attack(ctx):\n    return None\n"), "<attack>", "exec"), namespace)
    attack = namespace["attack"]
    config = ConfinementConfig(**scenario.get("config", {}))
    limits = Limits(**scenario.get("limits", {}))
    # What the real template holds when it forks: a control socket and a wakeup pipe.
    control = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    wakeup = os.pipe()
    high = os.dup2(wakeup[0], 4000)  # far above the child's RLIMIT_NOFILE, still closed

    if scenario.get("private_mounts"):
        _private_mounts()
    if scenario.get("as_user") is not None:
        # This interpreter lives under /root (mode 0700): import what prepare_template
        # would import while we can still read it, as a real user's template could.
        for module in ("pyseccomp", *DEFAULT_PRELOAD, *config.preload_modules):
            __import__(module)
        _drop_to(int(scenario["as_user"]))
    if scenario.get("deny"):
        _deny(scenario["deny"])
    try:
        prepared = prepare_template(config)
    except ConfinementUnavailable as exc:
        report["prepare"] = {"feature": exc.feature, "detail": exc.detail}
        out.write(json.dumps(report))
        return
    report["mode"] = prepared.mode

    ctx = {
        "tmp_bytes": limits.tmp_bytes,
        "limits": dataclasses.asdict(limits),
        "template_pid": os.getpid(),
        "sibling_pid": None,
        "template_fds": [control[0].fileno(), control[1].fileno(), *wakeup, high],
    }
    sibling = None
    if scenario.get("sibling"):

        def wait_forever(_ctx):
            try:  # a mark in its own /tmp, which no other child may see
                with open("/tmp/sibling-was-here", "w") as f:
                    f.write("secret")
            except OSError:
                pass
            while True:
                time.sleep(60)

        sibling = _spawn(prepared, config.child_uid(1), limits, wait_forever, dict(ctx))
        ctx["sibling_pid"] = sibling[0]
        time.sleep(0.2)  # let it finish confining
    ctx["uid"] = config.child_uid(2)
    pid, r = _spawn(prepared, ctx["uid"], limits, attack, ctx)
    report["child_pid"] = pid

    if scenario.get("orphan"):
        out.write(json.dumps(report))
        out.flush()
        time.sleep(0.3)  # the child is confined and sleeping by now
        os._exit(0)

    data = _read_all(r)
    _, status = os.waitpid(pid, 0)
    report["exit"] = _describe_exit(status)
    if data:
        try:
            report.update(json.loads(data))
        except ValueError:
            report["error"] = f"unparseable child output: {data[:200]!r}"
    if sibling is not None:
        os.kill(sibling[0], signal.SIGKILL)
        os.waitpid(sibling[0], 0)
        os.close(sibling[1])
    out.write(json.dumps(report))


if __name__ == "__main__":
    main()
