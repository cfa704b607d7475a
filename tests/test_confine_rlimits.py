"""Real attacks on the kernel confinement's resource limits: RLIMIT_NPROC, CPU, address
space, file size, open files and the size-capped /tmp tmpfs. Each runs in a confined child
through tests/confine_harness.py, with the helpers of tests/test_confine.py (which holds the
other layers). These tests never skip.
"""

from __future__ import annotations

import pytest

from tests.test_confine import NO_SECCOMP, confined, result_of

pytestmark = pytest.mark.system  # the harness runs in confined children

# ---------------------------------------------------------------------------------------
# Layer: RLIMIT_NPROC (seccomp off): no fork, no thread.
# ---------------------------------------------------------------------------------------


def test_nproc_refuses_processes_and_threads():
    result = result_of(
        """
        def attack(ctx):
            forked = try_fork()
            try:
                threading.Thread(target=lambda: None).start()
                thread = "ok"
            except RuntimeError as exc:
                thread = str(exc)
            return {"fork": forked, "thread": thread}
    """,
        config=NO_SECCOMP,
    )
    assert result == {"fork": "EAGAIN", "thread": "can't start new thread"}


# ---------------------------------------------------------------------------------------
# Layer: rlimits and the /tmp tmpfs (full configuration).
# ---------------------------------------------------------------------------------------


def test_cpu_overrun_is_a_distinct_sigxcpu():
    report = confined("def attack(ctx):\n    while True:\n        pass\n", limits={"cpu_seconds": 1})
    assert report["exit"]["signal_name"] == "SIGXCPU", report


def test_cpu_hard_limit_kills_a_tool_that_ignores_sigxcpu():
    report = confined(
        """
        def attack(ctx):
            signal.signal(signal.SIGXCPU, signal.SIG_IGN)
            while True:
                pass
    """,
        limits={"cpu_seconds": 1},
    )
    assert report["exit"]["signal_name"] == "SIGKILL", report


def test_address_space_limit_raises_memory_error():
    result = result_of(
        """
        def attack(ctx):
            try:
                bytearray(256 << 20)
                big = "allocated"
            except MemoryError:
                big = "MemoryError"
            chunks = []
            try:
                while True:
                    chunks.append(bytearray(1 << 20))
            except MemoryError:
                grabbed = len(chunks)
            chunks.clear()
            return {"big": big, "grabbed_mib": grabbed, "after": json.dumps({"still": "works"})}
    """,
        limits={"memory_bytes": 128 << 20},
    )
    assert result["big"] == "MemoryError"
    assert 0 < result["grabbed_mib"] < 128
    assert result["after"] == '{"still": "works"}'


def test_file_size_limit():
    result = result_of(
        """
        def attack(ctx):
            with open("/tmp/big", "wb", buffering=0) as f:
                f.write(b"x" * 65536)
                extra = outcome(f.write, b"x")
            return {"extra": extra, "size": os.stat("/tmp/big").st_size}
    """,
        limits={"file_size_bytes": 65536},
    )
    assert result == {"extra": "EFBIG", "size": 65536}


def test_open_files_limit():
    result = result_of(
        """
        def attack(ctx):
            files = []
            try:
                while True:
                    files.append(os.open(f"/tmp/f{len(files)}", os.O_CREAT | os.O_WRONLY, 0o600))
            except OSError as exc:
                return {"error": errname(exc), "opened": len(files)}
    """,
        limits={"open_files": 16},
    )
    assert result["error"] == "EMFILE"
    assert result["opened"] < 16


def test_tmp_is_capped_in_bytes_and_inodes():
    result = result_of(
        """
        def attack(ctx):
            written = 0
            with open("/tmp/fill", "wb", buffering=0) as f:
                try:
                    while True:
                        written += f.write(b"x" * 65536)
                except OSError as exc:
                    full = errname(exc)
            os.unlink("/tmp/fill")
            made = 0
            try:
                while True:
                    os.close(os.open(f"/tmp/i{made}", os.O_CREAT | os.O_WRONLY, 0o600))
                    made += 1
            except OSError as exc:
                inodes = errname(exc)
            return {"full": full, "written": written, "inodes": inodes, "made": made}
    """,
        limits={"tmp_bytes": 1 << 20, "file_size_bytes": 8 << 20, "open_files": 64},
        config={"tmp_inodes": 64},
    )
    assert result["full"] == "ENOSPC" and result["written"] <= 1 << 20, result
    assert result["inodes"] == "ENOSPC" and result["made"] < 64, result
