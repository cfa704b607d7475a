"""Regenerates worker/_proto/ from proto/ with grpcio-tools.

    python scripts/gen_proto.py            # rewrite worker/_proto/ in place
    python scripts/gen_proto.py --out DIR  # write into DIR instead (the freshness test)

protoc writes absolute imports (``from toolpool.v1 import toolpool_pb2``); they are
rewritten to ``worker._proto.toolpool.v1`` so the stubs live inside the worker package
without touching sys.path. The output depends on the grpcio-tools version, which is
pinned for that reason (see pyproject's test extra).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "proto"
PROTOS = ("toolpool/v1/toolpool.proto",)
OUT = ROOT / "worker" / "_proto"
PACKAGE_PREFIX = "worker._proto."


def generate(out_dir: Path) -> list[Path]:
    """Writes the stubs (and package __init__ files) into out_dir; returns the files written."""
    import grpc_tools
    from grpc_tools import protoc

    out_dir.mkdir(parents=True, exist_ok=True)
    well_known = Path(grpc_tools.__file__).parent / "_proto"
    args = [
        "protoc",
        f"-I{PROTO_ROOT}",
        f"-I{well_known}",
        f"--python_out={out_dir}",
        f"--pyi_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        *PROTOS,
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    written = []
    for proto in PROTOS:
        package_dir = out_dir / Path(proto).parent
        # Every directory from out_dir down to the stubs is a package.
        for directory in [out_dir, *(out_dir / p for p in reversed(Path(proto).parent.parents)), package_dir]:
            (directory / "__init__.py").touch()
        module = proto.removesuffix(".proto").replace("/", ".")
        parent = module.rsplit(".", 1)[0]
        for generated in sorted(package_dir.glob(Path(proto).stem + "_pb2*")):
            text = generated.read_text()
            fixed = text.replace(f"from {parent} import", f"from {PACKAGE_PREFIX}{parent} import")
            generated.write_text(fixed)
            written.append(generated)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    for path in generate(args.out):
        print(path.relative_to(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
