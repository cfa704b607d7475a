"""What the conv tests share (tests/test_conv.py, test_conv_state.py, test_conv_seeds.py):
a set of variants, and a real ``Conversation`` (sandbox/child/conv.py) built from a
conversation as the supervisor validates it.
"""

from __future__ import annotations

from typing import Any

from sandbox.child.conv import Conversation
from sandbox.child.logs import Log
from sandbox.supervisor.normalize import validate_conversation

VARIANTS = {
    "london": {"site_name": "London Bridge", "callee": "+441234567890"},
    "new_york": {"site_name": "Fifth Avenue", "callee": "+442345678901"},
    "default": {"site_name": "Head Office", "callee": "+10000000000"},
}


def make_conv(function: str = "some_tool", secrets: dict[str, str] | None = None, **conv: Any) -> Conversation:
    data = validate_conversation(conv)
    return Conversation(data, function=function, secrets=secrets or {}, log=Log({}))


class MyStr(str):
    """A str subclass: for what the runtime does with text that is not an exact ``str``."""
