"""Shared helpers for the deployment tests: the manifests, parsed once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
K8S = DEPLOY / "k8s"
PROFILE = DEPLOY / "seccomp" / "toolpool.json"


def load_manifests() -> list[tuple[Path, dict[str, Any]]]:
    documents = []
    for path in sorted(K8S.glob("*.yaml")):
        with path.open() as handle:
            documents += [(path, doc) for doc in yaml.safe_load_all(handle) if doc is not None]
    return documents


def by_kind(kind: str) -> dict[str, Any]:
    found = [doc for _, doc in load_manifests() if doc["kind"] == kind]
    assert len(found) == 1, f"expected one {kind} in deploy/k8s, found {len(found)}"
    return found[0]


def container_capabilities() -> list[str]:
    """The capabilities the Deployment adds: the one list every other place must match."""
    spec = by_kind("Deployment")["spec"]["template"]["spec"]
    return list(spec["containers"][0]["securityContext"]["capabilities"]["add"])


@pytest.fixture(scope="session")
def manifests() -> list[tuple[Path, dict[str, Any]]]:
    return load_manifests()
