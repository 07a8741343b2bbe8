"""ERRATA E-14: integers are 64-bit. The published documents leave them unbounded; the served
ones say int64, and only integers the contract declares are held to it."""

from __future__ import annotations

from pismo_sandbox.contracts.bundle import SOURCES, load_document, parse_document, read_text


def _integers(node, found=None):
    found = [] if found is None else found
    if isinstance(node, dict):
        if node.get("type") == "integer":
            found.append(node)
        for value in node.values():
            _integers(value, found)
    elif isinstance(node, list):
        for item in node:
            _integers(item, found)
    return found


def test_published_integers_are_unbounded_and_served_ones_are_int64():
    source = next(s for s in SOURCES if s.name == "integrated-payments")
    published = parse_document(source.filename, read_text(source.filename))
    account = published["components"]["schemas"]["bankslips.bankslipsPayRequest"]["properties"]["account_id"]
    assert account["type"] == "integer" and "format" not in account and "maximum" not in account
    for source in SOURCES:
        assert all(schema.get("format") for schema in _integers(load_document(source))), source.name


def test_an_integer_the_contract_declares_must_fit_in_64_bits(client, tenant):
    response = client.post(
        "/passport/v2/s2s/access-token",
        json={"server_key": tenant.server_key, "server_secret": tenant.server_secret, "account_id": 10**30},
    )
    assert response.status_code == 400
    assert response.json["details"] == "account_id: must fit in a 64-bit integer"


def test_a_field_the_contract_does_not_declare_may_hold_any_number(client, tenant):
    body = {"key": "k", "provider": "CELCOIN", "type": "PIX", "extra": [{"n": 10**30}]}
    assert client.post("/banking-auth/v1/credentials", json=body, headers=tenant.headers).status_code == 201
