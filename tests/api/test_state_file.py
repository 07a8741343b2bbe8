"""State files: validated with positions before anything starts, applied idempotently."""

from __future__ import annotations


import pytest

from pismo_sandbox.state import StateFileError, apply_state, read_state

STATE = """\
tenants:
  - tenant_id: TN-acme
    server_key: sk_acme
    server_secret: ss_acme_secret
    accounts:
      - account_id: 100000001
        bank_account: {bank: "60701190", branch: "186", account_number: "1773065291"}
      - {account_id: 100000002, status: BLOCKED}
    credentials:
      - {provider: CELCOIN, type: BAAS, key: celcoin-secret}
    bankslip_provider: ITAU
"""


def test_a_state_file_creates_tenants_accounts_credentials_bank_accounts_and_providers(services, state_file):
    applied = apply_state(services, read_state(state_file()))

    assert (applied.tenants, applied.accounts, applied.credentials, applied.bank_accounts, applied.providers) == (
        1,
        2,
        1,
        1,
        1,
    )
    assert services.tenancy.authenticate_server("sk_acme", "ss_acme_secret")["tenant_id"] == "TN-acme"
    assert [(a["account_id"], a["status"]) for a in services.tenancy.list_accounts("TN-acme")] == [
        (100000001, "NORMAL"),
        (100000002, "BLOCKED"),
    ]
    assert [(c["provider"], c["version"]) for c in services.credentials.list_public("TN-acme")] == [("CELCOIN", 1)]
    assert services.bankslips.provider_setting("TN-acme")["provider"] == "ITAU"


def test_applying_the_same_state_again_changes_nothing(services, state_file):
    state = read_state(state_file())
    apply_state(services, state)
    events_before = services.events.list(_everything())

    again = apply_state(services, state)

    assert again.summary() == "nothing to change"
    assert [c["version"] for c in services.credentials.list_public("TN-acme")] == [1]
    assert services.events.list(_everything()) == events_before  # no bank account registered twice


def test_a_changed_server_secret_replaces_the_old_one(services, state_file):
    apply_state(services, read_state(state_file()))

    apply_state(services, read_state(state_file(STATE.replace("ss_acme_secret", "ss_rotated"))))

    assert services.tenancy.authenticate_server("sk_acme", "ss_rotated")["tenant_id"] == "TN-acme"
    with pytest.raises(Exception):
        services.tenancy.authenticate_server("sk_acme", "ss_acme_secret")


def test_an_account_of_another_tenant_is_refused_naming_the_tenant(services, state_file):
    services.tenancy.create_tenant("TN-other")
    services.tenancy.create_account("TN-other", 100000001)

    with pytest.raises(StateFileError) as raised:
        apply_state(services, read_state(state_file()), "state.yaml")

    assert "state.yaml: tenants[0]:" in str(raised.value)
    assert "100000001" in str(raised.value)


def test_mistakes_are_reported_with_file_line_and_column(state_file):
    path = state_file("""\
        tenants:
          - tenant_id: TN-acme
            accounts:
              - {account_id: 5, statuss: NORMAL}
        """)

    with pytest.raises(StateFileError) as raised:
        read_state(path)

    assert str(raised.value) == f"{path}:4:25: tenants[0].accounts[0].statuss: Unknown field."


def test_a_server_key_without_its_secret_is_refused(state_file):
    path = state_file("tenants:\n  - tenant_id: TN-acme\n    server_key: sk_only\n")

    with pytest.raises(StateFileError) as raised:
        read_state(path)

    assert (
        str(raised.value)
        == f"{path}:3:5: tenants[0].server_key: give server_key and server_secret together (or neither)"
    )


def test_tenants_and_accounts_need_fixed_ids(state_file):
    with pytest.raises(StateFileError) as raised:
        read_state(state_file("tenants:\n  - accounts: [{status: NORMAL}]\n"))

    text = str(raised.value)
    assert "tenants[0].tenant_id" in text and "tenants[0].accounts[0].account_id" in text


def _everything():
    from pismo_sandbox.events import EventFilter

    return EventFilter(org_id=None, event_type=None, domain=None, cid=None, after=None, limit=1000)


def test_a_missing_or_unparsable_file_is_a_state_file_error(tmp_path, state_file):
    with pytest.raises(StateFileError) as missing:
        read_state(str(tmp_path / "nowhere.yaml"))
    with pytest.raises(StateFileError) as broken:
        read_state(state_file("tenants: [\n"))

    assert "nowhere.yaml: No such file or directory" in str(missing.value)
    assert "not valid YAML" in str(broken.value)
