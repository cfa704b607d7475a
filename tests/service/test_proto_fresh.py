"""The committed stubs in worker/_proto/ are what proto/ generates today."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2

REPO = Path(__file__).resolve().parents[2]
COMMITTED = REPO / "worker" / "_proto"


def regenerate(out: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "gen_proto.py"), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


def generated_files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


@pytest.mark.system  # protoc in a subprocess
def test_committed_stubs_are_byte_identical_to_a_fresh_generation(tmp_path):
    regenerate(tmp_path)
    fresh, committed = generated_files(tmp_path), generated_files(COMMITTED)
    assert fresh.keys() == committed.keys()
    stale = [name for name in fresh if fresh[name] != committed[name]]
    assert not stale, f"stale generated code {stale}: run `python scripts/gen_proto.py` and commit the result"


def test_the_stubs_describe_the_proto_as_it_is(tmp_path):
    """Independent of the generator's version: the embedded descriptor matches the .proto."""
    import grpc_tools
    from grpc_tools import protoc

    from worker._proto.toolpool.v1 import toolpool_pb2

    out = tmp_path / "descriptor.bin"
    include = Path(grpc_tools.__file__).parent / "_proto"
    assert (
        protoc.main(
            [
                "protoc",
                f"-I{REPO / 'proto'}",
                f"-I{include}",
                f"--descriptor_set_out={out}",
                "toolpool/v1/toolpool.proto",
            ]
        )
        == 0
    )
    fresh = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes()).file[0]
    embedded = descriptor_pb2.FileDescriptorProto.FromString(toolpool_pb2.DESCRIPTOR.serialized_pb)
    for message in (embedded, fresh):
        for message_type in message.message_type:
            for field in message_type.field:
                field.ClearField("json_name")  # protoc adds it to descriptor sets, not to stubs
    assert embedded == fresh, "stale generated code: run `python scripts/gen_proto.py` and commit the result"
