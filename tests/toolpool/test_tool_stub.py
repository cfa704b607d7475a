"""``toolpool.tool``, the editor's view of what a tool sees: the starter type-checks
against it (mypy, strict), mistakes an editor should flag are flagged, the spelling that
imports it compiles and runs in the real sandbox, and ``ToolReturn`` names exactly the
keys the supervisor accepts."""

from __future__ import annotations

import re
import subprocess
import sys
import typing
from pathlib import Path

import pytest

from sandbox.errors import InvalidReturn
from sandbox.supervisor.normalize import normalize_action
from toolpool import tool
from toolpool.testing import Sandbox

REPO = Path(__file__).resolve().parents[2]
STARTER = REPO / "worker" / "starter"
MYPY_CONFIG = """\
[mypy]
strict = True
follow_imports = silent
cache_dir = /dev/null

[mypy-worker._proto.*]
ignore_errors = True
"""

MISTAKES = """\
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from toolpool.tool import Conversation, ToolReturn, log


def start_function(conv: Conversation) -> ToolReturn:
    conv.stat.visits = 1
    conv.set_variant(3)
    log.inf("hello")
    conv.utils.get_secret("k").nope()
    return {"utterence": "hi", "listen": {"asr": {"timeout": "15"}}}
"""

VOICE = """\
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from toolpool.tool import CartesiaVoice, Conversation, ToolReturn
else:
    from polyai.voice import CartesiaVoice


def start_function(conv: Conversation) -> ToolReturn:
    conv.set_voice(CartesiaVoice(provider_voice_id="voice-1", speed=1.0))
    return {"utterance": "hi"}
"""


def mypy(tmp_path: Path, path: Path) -> subprocess.CompletedProcess:
    (tmp_path / "mypy.ini").write_text(MYPY_CONFIG)
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(tmp_path / "mypy.ini"), str(path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={"MYPYPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )


@pytest.mark.system  # mypy in a subprocess
def test_the_starter_and_the_voice_spelling_type_check(tmp_path):
    (tmp_path / "voice.py").write_text(VOICE)
    for path in (STARTER / "tool.py", tmp_path / "voice.py"):
        done = mypy(tmp_path, path)
        assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.system  # mypy in a subprocess
def test_an_editor_flags_the_mistakes(tmp_path):
    (tmp_path / "mistakes.py").write_text(MISTAKES)
    done = mypy(tmp_path, tmp_path / "mistakes.py")
    flagged = {int(line) for line in re.findall(r"mistakes\.py:(\d+): error", done.stdout)}
    assert flagged == {10, 11, 12, 13, 14}, done.stdout
    for expected in (
        '"Conversation" has no attribute "stat"',
        'incompatible type "int"; expected "str"',
        '"Log" has no attribute "inf"',
        '"str" has no attribute "nope"',
        'Extra key "utterence"',
        'TypedDict item "timeout" has type "float"',
    ):
        assert expected in done.stdout, (expected, done.stdout)


@pytest.mark.system  # a pool
def test_the_type_checking_spelling_compiles_and_runs_in_the_sandbox():
    with Sandbox() as sandbox:
        starter = sandbox.run(
            STARTER / "tool.py",
            "start_function",
            conv={
                "callee_number": "+1",
                "variants": {"a": {"callee": "+1", "site_name": "A"}},
                "secrets": {"crm_api_key": "sk-1234"},
            },
        )
        assert starter.ok, starter.error
        assert starter.action["utterance"] == "Welcome to A. How can I help you today?"
        voiced = sandbox.run(VOICE, "start_function")
        assert voiced.ok, voiced.error
        assert voiced.action["voice"] == {"provider": "cartesia", "provider_voice_id": "voice-1", "speed": 1.0}


def accepted_keys(path: list[str]) -> list[str]:
    """The keys the supervisor accepts at ``path`` of a return dict, from its refusal of an unknown key."""
    returned: dict = {"zzz_unknown": 1}
    for key in reversed(path):
        returned = {key: returned}
    with pytest.raises(InvalidReturn) as refused:
        normalize_action(returned, {}, {})
    return [key.strip() for key in refused.value.message.rpartition("takes: ")[2].split(",")]


@pytest.mark.parametrize(
    "path, typed",
    [
        ([], tool.ToolReturn),
        (["listen"], tool.Listen),
        (["listen", "asr"], tool.Asr),
        (["listen", "dtmf"], tool.Dtmf),
        (["listen", "barge_in"], tool.BargeIn),
        (["listen", "smart_vad"], tool.SmartVad),
        (["listen", "interjection"], tool.Interjection),
        (["handoff"], tool.Handoff),
        (["handoff", "refer"], tool.Refer),
        (["handoff", "invite"], tool.Invite),
        (["handoff", "bye"], tool.Bye),
    ],
)
def test_return_types_name_exactly_the_keys_the_supervisor_accepts(path, typed):
    assert list(typing.get_type_hints(typed)) == accepted_keys(path)
