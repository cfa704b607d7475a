"""sandbox/template/atfork.py: the template's children run none of the stdlib's at-fork hooks."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.system  # each case forks in a fresh interpreter

_FORGET_THEN_IMPORT = """
import os
from sandbox.template import atfork
atfork.forget()
import logging, random, threading
pid = os.fork()
if pid == 0:
    os._exit(0)
os.waitpid(pid, 0)
print(sorted(module for module, _ in atfork.FORGOTTEN))
"""


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, timeout=60)


def test_hooks_registered_after_forget_are_recorded_not_run():
    out = _run(_FORGET_THEN_IMPORT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[0] == "['logging', 'random', 'threading']", out.stdout


def test_forget_refuses_once_a_registrant_is_imported():
    out = _run("import random\nfrom sandbox.template import atfork\natfork.forget()\n")
    assert out.returncode != 0
    assert "atfork.forget() must run before random is imported" in out.stderr, out.stderr
