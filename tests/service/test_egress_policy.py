"""Egress policies in the service, without a server: the operator flag, the field-naming
checks, the wire form and the per-call cache (the store's rows: tests/store/). The end-to-end behaviour
is in tests/integration/test_egress_service.py."""

from __future__ import annotations

import pytest

from sandbox.egress.policy import EgressPolicy
from worker import translate
from worker.admission import Admission, AdmissionLimits
from worker.auth import Authenticator
from worker.checks import check_egress_policy
from worker.config import ConfigError, load_config
from worker.errors import InvalidArgument, PermissionDenied
from worker.service import ToolService
from worker.store.crypto import Keyring, new_key_text, parse_keys
from worker.store.sqlite import SQLiteStore

CLIENTS = (
    '[[clients]]\nname = "ops"\ntoken = "ops-123456"\ntenants = ["*"]\noperator = true\n'
    '[[clients]]\nname = "orch"\ntoken = "orch-123456"\ntenants = ["acme"]\n'
)


def test_operator_is_a_client_flag_off_by_default_and_on_for_the_development_token(tmp_path):
    path = tmp_path / "toolpool.toml"
    path.write_text(CLIENTS)
    ops, orch = load_config(path, env={"HOME": str(tmp_path)}).clients
    assert ops.operator and not orch.operator
    assert ops.describe()["operator"] is True
    Authenticator.require_operator(ops, "set egress policies")
    with pytest.raises(PermissionDenied) as denied:
        Authenticator.require_operator(orch, "set egress policies")
    assert denied.value.reason == "OPERATOR_ONLY" and "'orch'" in str(denied.value)
    path.write_text('[[clients]]\nname = "x"\ntoken = "t-123456"\ntenants = ["a"]\noperator = "yes"\n')
    with pytest.raises(ConfigError, match=r"clients\[0\]\.operator"):
        load_config(path, env={"HOME": str(tmp_path)})
    dev = load_config(None, env={"HOME": str(tmp_path / "dev")}).clients[0]
    assert dev.operator
    env_client = load_config(None, env={"HOME": str(tmp_path), "TOOLPOOL_TOKEN": "env-123456"}).clients[0]
    assert not env_client.operator


@pytest.mark.parametrize(
    "data, field",
    [
        ({"hosts": [{"pattern": "api.example.com"}, {"pattern": "bad host"}]}, "policy.hosts[1].pattern"),
        ({"hosts": [{"pattern": "*.com"}]}, "policy.hosts[0].pattern"),
        ({"hosts": [{"pattern": "127.0.0.1"}]}, "policy.hosts[0].pattern"),
        ({"hosts": [{"pattern": "api.example.com", "ports": [0]}]}, "policy.hosts[0].ports"),
        ({"hosts": [{"pattern": "api.example.com", "schemes": ["ftp"]}]}, "policy.hosts[0].schemes"),
        ({"addresses": [{"network": "localhost"}]}, "policy.addresses[0].network"),
        ({"addresses": [{"network": "::/0"}]}, "policy.addresses[0].network"),
        ({"addresses": [{"network": "10.0.0.1", "ports": [70000]}]}, "policy.addresses[0].ports"),
        ({"max_requests": 0}, "policy.max_requests"),
        ({"max_response_bytes": 1 << 40}, "policy.max_response_bytes"),
        ({"ca_pem": "not a certificate"}, "policy.ca_pem"),
        ({"proxy": "x"}, "policy.proxy"),
    ],
)
def test_a_malformed_policy_names_its_field(data, field):
    with pytest.raises(InvalidArgument) as error:
        check_egress_policy(data)
    assert error.value.field == field
    assert str(error.value).startswith(field + ": ")


def test_the_wire_form_round_trips_to_dict():
    policy = (
        EgressPolicy()
        .with_host("api.example.com")
        .with_host("*.crm.test", ports=[8443], schemes=["http", "https"])
        .with_address("10.1.2.0/24", ports=[80])
        .with_address("::1")
        .with_limits(max_requests=3, max_redirects=0)
    )
    message = translate.egress_policy_to_proto(policy.to_dict())
    back = translate.egress_policy_from_proto(type(message).FromString(message.SerializeToString()))
    assert back == policy.to_dict()
    assert check_egress_policy(back) == policy
    # A hand-written subset: unset caps are the defaults, empty ports the scheme's default.
    sparse = translate.egress_policy_from_proto(translate.egress_policy_to_proto({"hosts": [{"pattern": "a.test"}]}))
    assert check_egress_policy(sparse) == EgressPolicy().with_host("a.test")
    with pytest.raises(ValueError, match="unknown fields"):
        translate.egress_policy_to_proto({"host": []})


def test_calls_get_the_stored_policy_with_the_protected_ports_cached_until_it_changes(tmp_path):
    store = SQLiteStore(tmp_path / "t.db", Keyring(parse_keys(new_key_text())))
    service = ToolService(
        store,
        pool=None,
        admission=Admission(
            AdmissionLimits(
                max_concurrent=2, tenant_concurrency=1, reserved_for_start=0, max_queue=1, tenant_max_queue=1
            )
        ),
    )
    assert service._egress_for_call("acme") is None
    service.protect_ports([50051, None])
    service.set_egress_policy("acme", {"addresses": [{"network": "127.0.0.1"}]})
    first = service._egress_for_call("acme")
    assert first.protected_ports == {50051} and [str(r.network) for r in first.addresses] == ["127.0.0.1/32"]
    assert service._egress_for_call("acme") is first  # cached
    assert service._egress_for_call("globex") is None  # another tenant's policy never applies
    service.set_egress_policy("acme", {"hosts": [{"pattern": "api.example.com"}]})
    second = service._egress_for_call("acme")
    assert second is not first and [r.pattern for r in second.hosts] == ["api.example.com"]
    service.protect_ports([50051, 9464])
    assert service._egress_for_call("acme").protected_ports == {50051, 9464}
    service.set_egress_policy("acme", None)
    assert service._egress_for_call("acme") is None
    store.close()
