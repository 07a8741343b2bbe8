""" "Already paid" is per tenant: teams sharing one sandbox never see, nor collide with, each
other's payments (docs/security.md, "Tenant isolation"); within a tenant a slip is paid once,
whichever account pays it."""

from __future__ import annotations

from tests.conftest import Tenant
from tests.http._bankslips import payer, slips  # noqa: F401 (fixtures)


def _second_account(sandbox, tenant: Tenant) -> Tenant:
    account_id = sandbox.create_account(tenant.tenant_id)
    token = sandbox.login({"server_key": tenant.server_key, "server_secret": tenant.server_secret}, account_id)
    return Tenant(tenant.tenant_id, tenant.server_key, tenant.server_secret, account_id, token)


def test_a_slip_paid_by_one_tenant_can_be_paid_by_another(slips, sandbox, payer):
    slip, _ = slips.paid(payer)
    other = sandbox.tenant()
    slips.use_provider(other, "CELCOIN")
    validation = slips.validate(other, slip)
    assert validation.status_code == 200  # nothing tells tenant B that tenant A paid this slip
    paid = slips.pay(other, slips.pay_body(other, slip, validation.json))
    assert paid.status_code == 202
    assert [p["bar_code"] for p in slips.payments(payer)] == [slip["bar_code"]]
    assert [p["bar_code"] for p in slips.payments(other)] == [slip["bar_code"]]


def test_a_slip_paid_by_one_account_is_already_paid_for_the_tenant_other_accounts(slips, sandbox, payer):
    slip, _ = slips.paid(payer)
    colleague = _second_account(sandbox, payer)
    revalidate = slips.validate(colleague, slip)
    assert revalidate.status_code == 409 and revalidate.json["code"] == "EIP0065"
    again = slips.pay(colleague, slips.pay_body(colleague, slip, {"amount": slip["amount"]}))
    assert again.status_code == 409 and again.json["code"] == "EIP0065"
    assert len(slips.payments(payer)) == 1
