"""deploy/Dockerfile, parsed instruction by instruction (no container engine here)."""

from __future__ import annotations

import json
import re

from tests.deploy.conftest import DEPLOY, REPO, container_capabilities

DOCKERFILE = DEPLOY / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    result, pending = [], ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue  # a comment inside a continued instruction
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        text = (pending + line).strip()
        pending = ""
        keyword, _, arguments = text.partition(" ")
        result.append((keyword.upper(), arguments.strip()))
    assert not pending, "the Dockerfile ends inside a continued line"
    return result


def only(keyword: str) -> str:
    found = [args for kw, args in instructions() if kw == keyword]
    assert len(found) == 1, f"expected one {keyword}, found {found}"
    return found[0]


def test_known_instructions_only():
    known = {
        "FROM",
        "RUN",
        "COPY",
        "ENV",
        "WORKDIR",
        "LABEL",
        "USER",
        "EXPOSE",
        "STOPSIGNAL",
        "HEALTHCHECK",
        "ENTRYPOINT",
        "CMD",
        "VOLUME",
        "ARG",
    }
    assert {kw for kw, _ in instructions()} <= known


def test_based_on_python_3_11_slim():
    assert only("FROM").startswith("python:3.11-slim")


def test_runs_toolpool_serve_in_exec_form():
    assert json.loads(only("ENTRYPOINT")) == ["toolpool"]
    assert json.loads(only("CMD")) == ["serve"]  # SIGTERM reaches the server: no shell in between
    assert only("STOPSIGNAL") == "SIGTERM"


def test_installs_the_project_and_libseccomp():
    runs = " ".join(args for kw, args in instructions() if kw == "RUN")
    assert "libseccomp2" in runs and "pip install ." in runs
    copied = [args.split()[0] for kw, args in instructions() if kw == "COPY"]
    packages = ("sandbox", "worker", "toolpool")  # every package pyproject installs
    assert all(package in copied for package in packages)
    assert all(f'"{package}*"' in (REPO / "pyproject.toml").read_text() for package in packages)
    for source in ("pyproject.toml", "README.md", *packages):
        assert (REPO / source).exists()
    assert not any(kw == "COPY" and args.split()[0] in (".", "./") for kw, args in instructions())


def test_user_is_root_with_a_reason_and_the_capabilities_match_the_deployment():
    assert only("USER") == "0:0"
    text = DOCKERFILE.read_text()
    label = re.search(r'io\.toolpool\.capabilities="([A-Z_,]+)"', text)
    assert label and label.group(1).split(",") == container_capabilities()
    for cap in container_capabilities():
        assert re.search(rf"^#\s+{cap}\s+\S", text, re.MULTILINE), f"no comment says why {cap} is needed"
        assert f"--cap-add {cap}" in text
    assert "--cap-drop ALL" in text
    assert "seccomp=deploy/seccomp/toolpool.json" in text


def test_exposes_grpc_and_metrics_and_listens_on_all_interfaces():
    assert only("EXPOSE").split() == ["50051", "9464"]
    env = " ".join(args for kw, args in instructions() if kw == "ENV")
    assert "TOOLPOOL_HOST=0.0.0.0" in env and "TOOLPOOL_LOG_FORMAT=json" in env
    assert "grpc_health" in only("HEALTHCHECK")
