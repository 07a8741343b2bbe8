"""Create provider credential (seed 000): upsert, support matrix, documented errors, secrecy."""

from __future__ import annotations

import json
import logging
import pathlib
import sqlite3

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pismo_sandbox.crypto import SecretBox, derive, load_master_key
from pismo_sandbox.domains.credentials.providers import SUPPORTED, proxy_value
from pismo_sandbox.store import journal_path

URL = "/banking-auth/v1/credentials"
PROVIDERS, TYPES = ["BTG", "CELCOIN", "JDPI"], ["PIX", "BAAS"]


def _body(provider="CELCOIN", type_="PIX", key="provider-key-1", client_id="client-1"):
    body = {"key": key, "provider": provider, "type": type_}
    if client_id is not None:
        body["provider_data"] = {"client_id": client_id}
    return body


def _stored(client, tenant) -> list[dict]:
    response = client.get("/_sandbox/credentials", query_string={"tenant_id": tenant.tenant_id})
    assert response.status_code == 200
    return response.json["items"]


def test_create_answers_201_with_no_body_and_stores_the_credential(client, tenant):
    response = client.post(URL, json=_body(), headers=tenant.headers)
    assert response.status_code == 201
    assert response.data == b""
    assert "Content-Type" not in response.headers  # nothing to describe
    [stored] = _stored(client, tenant)
    assert stored["provider"] == "CELCOIN" and stored["type"] == "PIX" and stored["version"] == 1
    assert stored["client_id"] == "client-1"


def test_second_call_updates_the_same_credential(client, tenant):
    client.post(URL, json=_body(key="old", client_id="a"), headers=tenant.headers)
    response = client.post(URL, json=_body(key="new", client_id="b"), headers=tenant.headers)
    assert response.status_code == 201
    [stored] = _stored(client, tenant)
    assert stored["version"] == 2 and stored["client_id"] == "b"
    assert stored["proxy_value"] == proxy_value(tenant.tenant_id, "CELCOIN", "PIX", 2)


def test_credentials_are_kept_per_provider_and_type(client, tenant):
    for provider, type_ in [("BTG", "PIX"), ("BTG", "BAAS"), ("CELCOIN", "PIX")]:
        assert client.post(URL, json=_body(provider, type_), headers=tenant.headers).status_code == 201
    assert [(c["provider"], c["type"]) for c in _stored(client, tenant)] == [
        ("BTG", "BAAS"),
        ("BTG", "PIX"),
        ("CELCOIN", "PIX"),
    ]


@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(provider=st.sampled_from(PROVIDERS), type_=st.sampled_from(TYPES))
def test_support_matrix_decides_between_201_and_EBAA0007(client, tenant, provider, type_):
    response = client.post(URL, json=_body(provider, type_), headers=tenant.headers)
    if type_ in SUPPORTED[provider]:
        assert response.status_code == 201
    else:
        assert response.status_code == 400
        assert response.json["code"] == "EBAA0007"
        assert response.json["message"] == f"Unsupported Type: ({type_}) and Provider ({provider})"


@pytest.mark.parametrize("field,value", [("provider", "ITAU"), ("type", "TED")])
def test_provider_or_type_outside_the_enum_is_EBAA0007(client, tenant, field, value):
    response = client.post(URL, json={**_body(), field: value}, headers=tenant.headers)
    assert response.status_code == 400
    assert response.json["code"] == "EBAA0007"
    assert value in response.json["message"]


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(missing=st.sets(st.sampled_from(["key", "provider", "type"]), min_size=1))
def test_missing_required_fields_are_EBAA0005_naming_each_field(client, tenant, missing):
    body = {k: v for k, v in _body().items() if k not in missing}
    response = client.post(URL, json=body, headers=tenant.headers)
    assert response.status_code == 400
    assert response.json["code"] == "EBAA0005"
    assert response.json["message"] == f"Invalid payload. Required fields: [{', '.join(sorted(missing))}]"


@pytest.mark.parametrize(
    "body",
    [
        {"key": 12345, "provider": "BTG", "type": "PIX"},
        {"key": "k", "provider": 1, "type": "PIX"},
        {"key": "k", "provider": "BTG", "type": "PIX", "provider_data": {"client_id": 7}},
        ["not", "an", "object"],
    ],
)
def test_wrong_types_are_EBAA0004(client, tenant, body):
    response = client.post(URL, json=body, headers=tenant.headers)
    assert response.status_code == 400
    assert response.json["code"] == "EBAA0004"


def test_provider_data_must_be_an_object(client, tenant):
    response = client.post(URL, json={**_body(), "provider_data": 5}, headers=tenant.headers)
    assert response.status_code == 400
    assert response.json["code"] == "EBAA0004"
    assert response.json["details"] == "provider_data: must be an object"


@pytest.mark.parametrize("data", ["{not json", "", "null"])
def test_missing_body_is_an_invalid_payload(client, tenant, data):
    response = client.post(URL, data=data, content_type="application/json", headers=tenant.headers)
    assert response.status_code == 400
    assert response.json["code"] == "EBAA0004"


def test_a_wrongly_typed_key_is_not_echoed_in_the_error(client, tenant):
    response = client.post(URL, json={"key": 987654321, "provider": "BTG", "type": "PIX"}, headers=tenant.headers)
    assert response.status_code == 400
    assert "987654321" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "key,status,code",
    [
        ("sandbox-provider-reject", 502, "EBAA0002"),
        ("sandbox-provider-timeout", 504, "EBAA0003"),
        ("sandbox-provider-garbled", 500, "EPIX0005"),
        ("sandbox-fail-EBAA0009", 500, "EBAA0009"),
        ("sandbox-fail-EBAA0010", 500, "EBAA0010"),
        ("sandbox-fail-EBAA0011", 500, "EBAA0011"),
        ("sandbox-fail-EBAA0012", 500, "EBAA0012"),
        ("sandbox-fail-EBAA0014", 500, "EBAA0014"),
    ],
)
def test_documented_failures_are_reachable_and_change_nothing(client, tenant, key, status, code):
    assert client.post(URL, json=_body(key="good", client_id="before"), headers=tenant.headers).status_code == 201
    response = client.post(URL, json=_body(key=key, client_id="after"), headers=tenant.headers)
    assert response.status_code == status
    assert response.json["code"] == code
    [stored] = _stored(client, tenant)
    assert stored["version"] == 1 and stored["client_id"] == "before"


@pytest.mark.parametrize("type_", TYPES)
def test_btg_without_client_id_is_created_as_the_seed_example_is(client, tenant, type_):
    response = client.post(URL, json=_body("BTG", type_, client_id=None), headers=tenant.headers)
    assert response.status_code == 201 and response.get_data() == b""
    [stored] = _stored(client, tenant)
    assert (stored["provider"], stored["type"], stored["client_id"]) == ("BTG", type_, None)


def test_jd_consultores_offers_baas_credentials(client, tenant):
    response = client.post(URL, json=_body("JDPI", "BAAS"), headers=tenant.headers)
    assert response.status_code == 201
    assert [(c["provider"], c["type"]) for c in _stored(client, tenant)] == [("JDPI", "BAAS")]


def test_a_tenant_never_sees_another_tenants_credentials(client, sandbox):
    alice, bob = sandbox.tenant(), sandbox.tenant()
    client.post(URL, json=_body(client_id="alice"), headers=alice.headers)
    assert _stored(client, bob) == []
    client.post(URL, json=_body(client_id="bob"), headers=bob.headers)
    assert [c["client_id"] for c in _stored(client, alice)] == ["alice"]
    assert [c["client_id"] for c in _stored(client, bob)] == ["bob"]


def test_the_key_is_encrypted_at_rest_and_never_leaks(app, client, tenant, db_path, caplog):
    canary = "CANARY-provider-key-7f3a9c"
    caplog.set_level(logging.DEBUG)
    response = client.post(URL, json=_body(key=canary), headers=tenant.headers)
    assert response.status_code == 201
    responses = [
        response.get_data(as_text=True),
        client.get("/_sandbox/credentials", query_string={"tenant_id": tenant.tenant_id}).get_data(as_text=True),
        json.dumps(client.get("/_sandbox/journal").json),
        json.dumps(client.get("/_sandbox/events").json),
    ]
    for text in responses + [caplog.text]:
        assert canary not in text
    for suffix in ("", "-wal", "-shm"):
        for path in (pathlib.Path(db_path + suffix), pathlib.Path(journal_path(db_path) + suffix)):
            if path.exists():
                assert canary.encode() not in path.read_bytes(), path.name
    # ...yet it is really stored: the ciphertext opens with the tenant-bound context.
    row = (
        sqlite3.connect(db_path)
        .execute("SELECT key_ciphertext FROM credentials WHERE tenant_id = ?", [tenant.tenant_id])
        .fetchone()
    )
    box = SecretBox(derive(load_master_key(None, db_path), "credentials"))
    assert box.open(row[0], f"banking-auth|{tenant.tenant_id}|CELCOIN|PIX") == canary


def test_a_ciphertext_moved_to_another_tenant_does_not_decrypt(client, sandbox, db_path):
    from cryptography.exceptions import InvalidTag

    alice = sandbox.tenant()
    client.post(URL, json=_body(key="alice-secret"), headers=alice.headers)
    blob = sqlite3.connect(db_path).execute("SELECT key_ciphertext FROM credentials").fetchone()[0]
    box = SecretBox(derive(load_master_key(None, db_path), "credentials"))
    with pytest.raises(InvalidTag):
        box.open(blob, "banking-auth|TN-mallory|CELCOIN|PIX")
