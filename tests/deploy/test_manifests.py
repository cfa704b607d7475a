"""deploy/k8s against the Kubernetes schemas (kubernetes-validate, bundled schemas, no
cluster), plus the checks a schema cannot make: that the pieces agree with each other
and with the service."""

from __future__ import annotations

import json

import kubernetes_validate
import pytest

from tests.deploy.conftest import DEPLOY, PROFILE, by_kind, load_manifests
from worker.config import load_config
from worker.server import SERVICE_NAME

# The oldest release with every field used here (securityContext.appArmorProfile is 1.30),
# and the newest the validator knows.
KUBERNETES_VERSIONS = ("1.30.0", kubernetes_validate.latest_version())
LABELS = {"app.kubernetes.io/name": "toolpool"}


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_manifest_is_valid_against_the_schemas_strictly(version):
    documents = load_manifests()
    assert {doc["kind"] for _, doc in documents} >= {
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "ConfigMap",
    }
    for path, doc in documents:
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{path.name} ({doc['kind']}) against Kubernetes {version}: {exc.message}")


def test_the_validator_does_reject_a_bad_manifest():
    pdb = by_kind("PodDisruptionBudget")
    broken = {**pdb, "spec": {**pdb["spec"], "maxUnavailabel": 1}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSIONS[0], strict=True)


def pod_spec():
    return by_kind("Deployment")["spec"]["template"]["spec"]


def container():
    containers = pod_spec()["containers"]
    assert len(containers) == 1
    return containers[0]


def test_selectors_agree():
    deployment = by_kind("Deployment")
    assert deployment["spec"]["selector"]["matchLabels"] == LABELS
    assert deployment["spec"]["template"]["metadata"]["labels"] == LABELS
    assert by_kind("Service")["spec"]["selector"] == LABELS
    assert by_kind("PodDisruptionBudget")["spec"]["selector"]["matchLabels"] == LABELS
    assert by_kind("NetworkPolicy")["spec"]["podSelector"]["matchLabels"] == LABELS
    target = by_kind("HorizontalPodAutoscaler")["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", deployment["metadata"]["name"])


def test_the_service_is_headless_for_client_side_balancing():
    service = by_kind("Service")["spec"]
    assert service["clusterIP"] == "None"
    assert not service.get("publishNotReadyAddresses")  # draining replicas leave DNS
    [port] = service["ports"]
    assert port["port"] == 50051 and port["targetPort"] == "grpc"


def test_probes_are_native_grpc_health_checks():
    c = container()
    grpc_port = {p["name"]: p["containerPort"] for p in c["ports"]}["grpc"]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert c[probe]["grpc"]["port"] == grpc_port, probe
    # Readiness watches the service itself, which goes NOT_SERVING when draining starts.
    assert c["readinessProbe"]["grpc"]["service"] == SERVICE_NAME
    liveness = c["livenessProbe"]
    assert liveness["periodSeconds"] * liveness["failureThreshold"] > config()["drain_grace_s"]


def test_security_context_grants_exactly_the_sandboxs_capabilities():
    security = container()["securityContext"]
    assert security["capabilities"]["drop"] == ["ALL"]
    assert sorted(security["capabilities"]["add"]) == sorted(
        ["SYS_ADMIN", "SETUID", "SETGID", "SETPCAP", "SYS_CHROOT", "KILL"]
    )
    assert security["privileged"] is False
    assert security["runAsUser"] == 0 and security["runAsNonRoot"] is False
    # The API server refuses allowPrivilegeEscalation=false with an added CAP_SYS_ADMIN.
    assert security["allowPrivilegeEscalation"] is True
    assert security["readOnlyRootFilesystem"] is True
    for where in (security, pod_spec()["securityContext"]):
        assert where["seccompProfile"] == {"type": "Localhost", "localhostProfile": f"profiles/{PROFILE.name}"}
    assert pod_spec()["automountServiceAccountToken"] is False


def test_the_seccomp_profile_is_an_oci_profile_with_a_reason_per_rule():
    profile = json.loads(PROFILE.read_text())
    assert profile["defaultAction"] == "SCMP_ACT_ERRNO"
    assert profile["architectures"] == ["SCMP_ARCH_X86_64"]
    allowed = set()
    for rule in profile["syscalls"]:
        assert rule["comment"] and rule["names"], rule
        assert set(rule) <= {"names", "action", "errnoRet", "args", "comment"}
        if rule["action"] == "SCMP_ACT_ALLOW":
            allowed.update(rule["names"])
    assert {"unshare", "mount", "umount2", "pivot_root", "chroot", "sethostname", "seccomp"} <= allowed
    never = {
        "setns",
        "ptrace",
        "bpf",
        "keyctl",
        "add_key",
        "request_key",
        "userfaultfd",
        "perf_event_open",
        "io_uring_setup",
        "io_uring_enter",
        "kexec_load",
        "init_module",
        "finit_module",
        "open_by_handle_at",
        "process_vm_readv",
        "process_vm_writev",
        "reboot",
        "swapon",
        "mount_setattr",
        "move_mount",
        "fsopen",
        "personality",
        "clone3",
    }
    assert not allowed & never, allowed & never


def test_termination_grace_covers_the_drain():
    assert pod_spec()["terminationGracePeriodSeconds"] > config()["drain_grace_s"] + 5


def test_the_hpa_and_pdb_keep_replicas_available():
    hpa = by_kind("HorizontalPodAutoscaler")["spec"]
    assert hpa["minReplicas"] >= 2 and hpa["maxReplicas"] > hpa["minReplicas"]
    assert by_kind("PodDisruptionBudget")["spec"]["maxUnavailable"] == 1
    strategy = by_kind("Deployment")["spec"]["strategy"]["rollingUpdate"]
    assert strategy["maxUnavailable"] == 0


def config():
    """The ConfigMap's toolpool.toml, loaded by the real configuration loader."""
    text = by_kind("ConfigMap")["data"]["toolpool.toml"]
    return _load(text)


def _load(text: str) -> dict:
    import tempfile
    from pathlib import Path

    env_names = [e["name"] for e in container()["env"]]
    from_secrets = dict.fromkeys(env_names, "token-from-the-secret") | {
        "TOOLPOOL_STORE_URL": "postgresql://toolpool:pw@postgresql:5432/toolpool",
        "TOOLPOOL_SECRETS_KEY": "a2V5LWZvci10ZXN0cy0wMTIzNDU2Nzg5YWJjZGVmMDE=",
    }
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "toolpool.toml"
        path.write_text(text)
        loaded = load_config(path, env=from_secrets | {"HOME": directory})
    return {"drain_grace_s": loaded.drain_grace_s, "loaded": loaded}


def test_the_configmap_is_a_valid_toolpool_configuration():
    loaded = config()["loaded"]
    assert loaded.host == "0.0.0.0" and loaded.port == 50051
    assert loaded.metrics_enabled and loaded.metrics_host == "0.0.0.0"
    assert loaded.log_format == "json"
    assert not loaded.dev_token_generated  # clients come from the Secret
    assert not loaded.pool_insecure_no_confinement
    ports = {p["name"]: p["containerPort"] for p in container()["ports"]}
    assert ports == {"grpc": loaded.port, "metrics": loaded.metrics_port}
    annotations = by_kind("Deployment")["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == str(loaded.metrics_port)
    mounts = {m["mountPath"] for m in container()["volumeMounts"]}
    assert str(loaded.db_path.parent) in mounts  # a writable volume: the root filesystem is read-only


def test_the_store_url_and_the_secrets_key_come_from_a_secret():
    env = {e["name"]: e for e in container()["env"]}
    for name, key in (("TOOLPOOL_STORE_URL", "url"), ("TOOLPOOL_SECRETS_KEY", "secrets-key")):
        assert "value" not in env[name], f"{name} must not be written in the manifest"
        assert env[name]["valueFrom"]["secretKeyRef"] == {"name": "toolpool-store", "key": key}
    loaded = config()["loaded"]
    assert loaded.store_url.startswith("postgresql://") and loaded.secrets_key
    assert loaded.store_pool_size * by_kind("HorizontalPodAutoscaler")["spec"]["maxReplicas"] <= 100  # max_connections


def test_the_network_policy_lets_the_pods_reach_postgresql_and_nothing_else_but_dns():
    egress = by_kind("NetworkPolicy")["spec"]["egress"]
    ports = sorted((p["port"], p["protocol"]) for rule in egress for p in rule["ports"])
    assert ports == [(53, "TCP"), (53, "UDP"), (5432, "TCP")]
    assert all(rule.get("to") for rule in egress)  # never "anywhere"


def test_readme_documents_operations():
    text = (DEPLOY.parent / "README.md").read_text()
    assert "## Observability" in text and "## Running in production" in text
    for capability in ("SYS_ADMIN", "SYS_CHROOT", "SETPCAP", "SETUID", "SETGID", "KILL"):
        assert f"`{capability}`" in text
