"""Validate bank slip (sandbox-authored spec): decoding, precise EIP0008 details, providers,
the fake beneficiary registry, scenario charges, validate-stage triggers; and the admin boleto
generator and provider setting it relies on."""

from __future__ import annotations

import pytest

from pismo_sandbox.domains.bankslips.registry import is_valid_cnpj, is_valid_cpf
from tests.http._bankslips import VALIDATE, payer, slips  # noqa: F401 (fixtures)


def test_a_bank_slip_validates_by_bar_code_with_its_decoded_data(client, slips, payer):
    slip = slips.boleto(amount=150.25, due_date="2025-07-02", bank="341")
    response = slips.validate(payer, slip)
    assert response.status_code == 200
    body = response.json
    assert body["type"] == 1
    assert body["bar_code"] == slip["bar_code"] and body["digitable_line"] == slip["digitable_line"]
    assert body["amount"] == 150.25 and body["original_amount"] == 150.25
    assert body["due_datetime"] == "2025-07-02T00:00:00.000Z"
    assert body["currency_code"] == "BRL"
    assert body["bank"]["code"] == "341" and "ITA" in body["bank"]["name"]
    assert set(body["beneficiary"]) == {"name", "document", "document_type"}
    assert response.headers["x-cid"]


def test_a_masked_digitable_line_names_the_same_slip(slips, payer):
    slip = slips.boleto()
    line = slip["digitable_line"]
    masked = f"{line[:5]}.{line[5:10]} {line[10:15]}.{line[15:21]} {line[21:26]}.{line[26:32]} {line[32]} {line[33:]}"
    response = slips.validate(payer, {**slip, "digitable_line": masked}, field="digitable_line")
    assert response.status_code == 200
    assert response.json["bar_code"] == slip["bar_code"]


def test_a_dealership_slip_validates_with_its_segment_and_a_company_beneficiary(slips, payer):
    slip = slips.boleto(kind="dealership", amount=89.9, segment="3")
    assert slip["type"] == 2 and slip["bar_code"].startswith("83")
    response = slips.validate(payer, slip, field="digitable_line")
    assert response.status_code == 200
    body = response.json
    assert body["dealership"]["segment"] == "3"
    assert body["amount"] == 89.9 and "due_datetime" not in body and "bank" not in body
    assert body["beneficiary"]["document_type"] == "CNPJ"
    assert is_valid_cnpj(body["beneficiary"]["document"])


def test_the_beneficiary_is_deterministic_and_its_document_has_valid_check_digits(slips, sandbox):
    alice, bob = sandbox.tenant(), sandbox.tenant()
    slips.use_provider(alice, "BTG")
    slips.use_provider(bob, "CELCOIN")
    seen_types = set()
    for n in range(1, 21):  # fixed free fields: the registry's answers are fixed too
        slip = slips.boleto(amount=float(n), free_field=f"{n:025d}")
        first, second = slips.validated(alice, slip), slips.validated(bob, slip)
        assert first["beneficiary"] == second["beneficiary"]
        document, kind = first["beneficiary"]["document"], first["beneficiary"]["document_type"]
        assert is_valid_cpf(document) if kind == "CPF" else is_valid_cnpj(document)
        seen_types.add(kind)
    assert seen_types == {"CPF", "CNPJ"}


def test_a_slip_without_an_amount_validates_without_one(slips, payer):
    slip = slips.boleto(amount=None, due_date=None)
    body = slips.validated(payer, slip)
    assert "amount" not in body and "due_datetime" not in body


@pytest.mark.parametrize(
    "mutate,field,details",
    [
        (
            lambda s: s["bar_code"][:4] + str((int(s["bar_code"][4]) + 1) % 10) + s["bar_code"][5:],
            "bar_code",
            "bar_code: general check digit (bar code position 5) is",
        ),
        (lambda s: s["bar_code"][:-1], "bar_code", "bar_code: a bar code has 44 digits, got 43"),
        (
            lambda s: s["bar_code"][:10] + "A" + s["bar_code"][11:],
            "bar_code",
            "bar_code: character 'A' at position 11 is not a digit",
        ),
        (
            lambda s: s["digitable_line"][:9] + str((int(s["digitable_line"][9]) + 1) % 10) + s["digitable_line"][10:],
            "digitable_line",
            "digitable_line: digitable line field 1 check digit is",
        ),
        (
            lambda s: s["digitable_line"][:-2],
            "digitable_line",
            "digitable_line: a digitable line has 47 (bank) or 48 (dealership) digits, got 45",
        ),
    ],
)
def test_invalid_slips_are_EIP0008_with_precise_details(slips, payer, mutate, field, details):
    slip = slips.boleto()
    response = slips.validate(payer, {**slip, field: mutate(slip)}, field=field)
    assert response.status_code == 400
    assert response.json["code"] == "EIP0008" and response.json["message"] == "Validation error"
    assert response.json["details"].startswith(details), response.json["details"]


@pytest.mark.parametrize("kind,wrong_type", [("bank", 2), ("dealership", 1)])
def test_the_type_must_agree_with_the_slip(slips, payer, kind, wrong_type):
    slip = slips.boleto(kind=kind)
    response = slips.validate(payer, {**slip, "type": wrong_type})
    assert response.status_code == 400 and response.json["code"] == "EIP0008"
    assert response.json["details"].startswith(f"type: is {wrong_type}")
    assert f"send type {slip['type']}" in response.json["details"]


def test_one_of_bar_code_and_digitable_line_is_needed_and_both_must_be_the_same_slip(client, slips, payer):
    slip, other = slips.boleto(amount=10), slips.boleto(amount=11)
    neither = client.post(VALIDATE, json={"type": 1}, headers=payer.headers)
    assert neither.status_code == 400
    assert neither.json["details"] == "bar_code or digitable_line: one of them is required"
    disagree = client.post(
        VALIDATE,
        json={"type": 1, "bar_code": slip["bar_code"], "digitable_line": other["digitable_line"]},
        headers=payer.headers,
    )
    assert disagree.status_code == 400 and disagree.json["code"] == "EIP0008"
    assert disagree.json["details"].startswith("bar_code and digitable_line are different bank slips")
    both = client.post(
        VALIDATE,
        json={"type": 1, "bar_code": slip["bar_code"], "digitable_line": slip["digitable_line"]},
        headers=payer.headers,
    )
    assert both.status_code == 200
    assert (both.json["bar_code"], both.json["amount"]) == (slip["bar_code"], 10.0)
    # The validation was remembered: the slip can now be paid.
    paid = slips.pay(payer, slips.pay_body(payer, slip, both.json))
    assert paid.status_code == 202


@pytest.mark.parametrize(
    "body,code",
    [
        ({"bar_code": "1"}, "EIP0008"),  # type missing
        ({"type": 3, "bar_code": "1"}, "EIP0008"),  # type outside the enum
        ({"type": 1, "bar_code": 123}, "EIP0008"),  # wrong type
    ],
)
def test_contract_failures_use_the_integrated_payments_codes(client, payer, body, code):
    response = client.post(VALIDATE, json=body, headers=payer.headers)
    assert response.status_code == 400 and response.json["code"] == code


def test_malformed_json_is_EIP0010(client, payer):
    response = client.post(VALIDATE, data="{nope", content_type="application/json", headers=payer.headers)
    assert response.status_code == 400 and response.json["code"] == "EIP0010"


def test_a_tenant_token_without_an_account_is_EIP0006(client, sandbox, slips):
    created = sandbox.create_tenant()
    token = sandbox.login(created)
    response = client.post(
        VALIDATE, json={"type": 1, "bar_code": slips.boleto()["bar_code"]}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 403 and response.json["code"] == "EIP0006"


def test_no_token_is_401(client, slips):
    response = client.post(VALIDATE, json={"type": 1, "bar_code": slips.boleto()["bar_code"]})
    assert response.status_code == 401


def test_no_provider_is_EIP0023_naming_both_ways_to_configure_one(slips, sandbox):
    tenant = sandbox.tenant()
    response = slips.validate(tenant, slips.boleto())
    assert response.status_code == 400
    assert response.json["code"] == "EIP0023"
    assert response.json["message"] == "Banking gateway API error - API returned 4xx error"
    assert "/banking-auth/v1/credentials" in response.json["details"]
    assert "bankslip-provider" in response.json["details"]


def test_a_pix_credential_of_btg_or_celcoin_does_not_pay_bank_slips(client, slips, sandbox):
    tenant = sandbox.tenant()
    client.post(
        "/banking-auth/v1/credentials", json={"key": "k", "provider": "CELCOIN", "type": "PIX"}, headers=tenant.headers
    )
    assert slips.validate(tenant, slips.boleto()).json["code"] == "EIP0023"


@pytest.mark.parametrize("provider,returns", [("CELCOIN", True), ("ITAU", True), ("BTG", False), ("JDPI", False)])
def test_only_some_providers_return_an_external_authorization(slips, sandbox, provider, returns):
    tenant = sandbox.tenant()
    slips.use_provider(tenant, provider)
    body = slips.validated(tenant, slips.boleto())
    assert ("external_authorization" in body) is returns
    if returns:
        assert body["external_authorization"].isdigit() and len(body["external_authorization"]) == 6


def test_the_admin_provider_setting_wins_over_credentials_and_can_be_cleared(client, slips, sandbox):
    tenant = sandbox.tenant()
    url = f"/_sandbox/tenants/{tenant.tenant_id}/bankslip-provider"
    assert client.get(url).json == {"tenant_id": tenant.tenant_id, "provider": None, "source": None}
    slips.use_provider(tenant, "BTG")
    assert client.get(url).json["provider"] == "BTG" and client.get(url).json["source"] == "credential"
    put = client.put(url, json={"provider": "ITAU"})
    assert put.status_code == 200 and put.json["provider"] == "ITAU" and put.json["source"] == "admin"
    assert "external_authorization" in slips.validated(tenant, slips.boleto())
    assert client.delete(url).status_code == 204
    assert client.get(url).json["provider"] == "BTG"


def test_provider_setting_of_an_unknown_tenant_is_404(client):
    assert client.put("/_sandbox/tenants/TN-nobody/bankslip-provider", json={"provider": "ITAU"}).status_code == 404


def test_scenario_charges_change_the_amount_to_pay(slips, payer):
    slip = slips.boleto(amount=200.0, fine=4.0, interest=1.5, discount=10.0)
    body = slips.validated(payer, slip)
    assert body["original_amount"] == 200.0
    assert (body["fine"], body["interest"], body["discount"]) == (4.0, 1.5, 10.0)
    assert body["amount"] == 195.5


@pytest.mark.parametrize(
    "trigger,status,code",
    [
        ("validate-EIP0002", 504, "EIP0002"),
        ("validate-EIP0004", 500, "EIP0004"),
        ("validate-EIP0007", 500, "EIP0007"),
        ("validate-EIP0022", 500, "EIP0022"),
        ("validate-EIP0023", 400, "EIP0023"),
        ("validate-EIP0024", 502, "EIP0024"),
        ("validate-EIP0065", 409, "EIP0065"),
    ],
)
def test_validate_stage_triggers_answer_their_documented_error(client, slips, payer, trigger, status, code):
    slip = slips.boleto(trigger=trigger)
    assert slip["free_field"].startswith("99998" + code[3:])
    response = slips.validate(payer, slip)
    assert response.status_code == status and response.json["code"] == code
    assert trigger in response.json["details"]
    # Nothing was validated: paying it says so.
    pay = slips.pay(payer, slips.pay_body(payer, slip))
    assert pay.status_code == 400 and "not validated" in pay.json["details"]


def test_pay_stage_triggers_still_validate(slips, payer):
    assert slips.validate(payer, slips.boleto(trigger="EIP0024")).status_code == 200


# -- the admin generator -------------------------------------------------------------------------


def test_generated_boletos_are_distinct_and_due_in_30_days_by_default(slips):
    first, second = slips.boleto(amount=10.0), slips.boleto(amount=10.0)
    assert first["bar_code"] != second["bar_code"]
    assert first["due_date"] == "2025-07-02"  # the frozen sandbox date (2025-06-02) + 30 days


def test_generator_takes_a_due_date_a_bank_and_no_due_date(slips):
    assert slips.boleto(due_date="2026-01-15", bank="237")["bar_code"].startswith("237")
    assert slips.boleto(due_date=None)["due_date"] is None


@pytest.mark.parametrize(
    "body,details",
    [
        ({"kind": "bank", "amount": 1.234}, "amount: must have at most 2 decimal places"),
        ({"kind": "dealership", "amount": 5, "bank": "001"}, "bank and due_date: only bank slips have them"),
        ({"kind": "bank", "amount": 5, "segment": "2"}, "segment: only dealership slips have one"),
        ({"kind": "bank", "amount": None, "fine": 1}, "fine, interest and discount need a slip with an amount"),
        ({"kind": "bank", "amount": 5, "discount": 5}, "discount: must leave something to pay"),
        (
            {"kind": "bank", "amount": 5, "trigger": "EIP0024", "free_field": "1" * 25},
            "give trigger or free_field, not both",
        ),
    ],
)
def test_generator_rejects_inconsistent_requests(client, body, details):
    response = client.post("/_sandbox/boletos", json=body)
    assert response.status_code == 400
    assert response.json["code"] == "SANDBOX_INVALID_REQUEST" and response.json["details"] == details


@pytest.mark.parametrize("body", [{"kind": "card"}, {"kind": "bank", "trigger": "nope"}, {"amount": 1}])
def test_generator_requests_are_validated_by_the_admin_contract(client, body):
    assert client.post("/_sandbox/boletos", json=body).status_code == 400
