"""deploy/compose.yaml against the compose specification's JSON schema (the copy that
check-jsonschema ships), plus what a schema cannot check: that it really is PostgreSQL
and two replicas on it, configured as the server's own loader reads them, with the
Deployment's capabilities and seccomp profile. No container engine is needed."""

from __future__ import annotations

import importlib.resources
import json
import re

import jsonschema
import pytest
import yaml

from tests.deploy.conftest import DEPLOY, PROFILE, container_capabilities
from worker.config import load_config

COMPOSE = DEPLOY / "compose.yaml"


def compose_schema() -> dict:
    vendor = importlib.resources.files("check_jsonschema.builtin_schemas.vendor")
    return json.loads((vendor / "compose-spec.json").read_text())


def document() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def validator() -> jsonschema.protocols.Validator:
    schema = compose_schema()
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def test_the_compose_file_is_valid_against_the_compose_specification():
    errors = sorted(validator().iter_errors(document()), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors)


def test_the_validator_does_reject_a_bad_compose_file():
    broken = document()
    broken["services"]["toolpool-1"]["restart_policy"] = "always"  # not a service key
    assert list(validator().iter_errors(broken))
    broken = document()
    broken["services"]["postgres"]["healthcheck"]["interval"] = 2  # a duration is a string
    assert list(validator().iter_errors(broken))


def replicas() -> dict[str, dict]:
    return {name: s for name, s in document()["services"].items() if name.startswith("toolpool")}


def test_postgresql_and_two_replicas_on_it():
    services = document()["services"]
    assert services["postgres"]["image"].startswith("postgres:")
    assert len(replicas()) == 2
    for name, service in replicas().items():
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy", name
        assert service["build"]["dockerfile"] == "deploy/Dockerfile" and service["command"] == ["serve"]
    host_ports = [p.split(":")[-2] for s in replicas().values() for p in s["ports"]]
    assert len(host_ports) == len(set(host_ports)), "two replicas on one host port"


def test_every_replica_loads_as_a_postgresql_configuration_with_the_shared_key(tmp_path):
    db = document()["services"]["postgres"]["environment"]
    for name, service in replicas().items():
        env = {k: re.sub(r"\$\{[^}]*\}", "", str(v)) for k, v in service["environment"].items()}
        env |= {
            "TOOLPOOL_SECRETS_KEY": "a2V5LWZvci10ZXN0cy0wMTIzNDU2Nzg5YWJjZGVmMDE=",
            "TOOLPOOL_TOKEN": "token-for-tests",
            "HOME": str(tmp_path),
        }
        config = load_config(None, env=env)
        assert config.store_url == (
            f"postgresql://{db['POSTGRES_USER']}:{db['POSTGRES_PASSWORD']}@postgres:5432/{db['POSTGRES_DB']}"
        ), name
        assert "${TOOLPOOL_SECRETS_KEY:?" in service["environment"]["TOOLPOOL_SECRETS_KEY"]  # never a default key
        assert not config.dev_token_generated and config.metrics_enabled


@pytest.mark.parametrize("name", ["toolpool-1", "toolpool-2"])
def test_replicas_get_the_deployments_capabilities_and_seccomp_profile(name):
    service = replicas()[name]
    assert service["cap_drop"] == ["ALL"]
    assert sorted(service["cap_add"]) == sorted(container_capabilities())
    profile = next(o.split("=", 1)[1] for o in service["security_opt"] if o.startswith("seccomp="))
    assert (COMPOSE.parent / profile).resolve() == PROFILE.resolve()
    assert service["read_only"] is True
