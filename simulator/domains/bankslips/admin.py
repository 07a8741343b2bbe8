"""The bank-slip control plane's rules: the boleto generator, the tenant's provider setting and
the payment listing. No Flask here."""

from __future__ import annotations

from datetime import timedelta

from pismo_sandbox.clock import isoformat
from pismo_sandbox.domains.bankslips import boleto, errors, triggers
from pismo_sandbox.domains.bankslips.boleto import BANK
from pismo_sandbox.domains.bankslips.schemas import GenerateBoleto
from pismo_sandbox.domains.bankslips.rules import (
    BANK_TYPE,
    DEALERSHIP_TYPE,
    DEFAULT_DUE_IN_DAYS,
    SlipRules,
    as_money,
    as_text,
    two_places,
)


class BankSlipAdmin(SlipRules):
    # -- admin -----------------------------------------------------------------------------------
    def provider_setting(self, tenant_id: str) -> dict:
        self.tenancy.get_tenant(tenant_id)
        resolved = self.resolve_provider(tenant_id)
        body: dict = {"tenant_id": tenant_id, "provider": None, "source": None}
        if resolved is not None:
            p = resolved.provider
            body.update(
                {
                    "provider": p.name,
                    "source": resolved.source,
                    "returns_external_authorization": p.returns_external_authorization,
                    "reconciles": p.reconciles,
                    "settlement_partner": p.settlement_partner,
                }
            )
        return body

    def set_provider(self, tenant_id: str, provider: str) -> dict:
        self.tenancy.get_tenant(tenant_id)
        self.repo.set_admin_provider(tenant_id, provider, isoformat(self.clock.now()))
        return self.provider_setting(tenant_id)

    def clear_provider(self, tenant_id: str) -> None:
        self.tenancy.get_tenant(tenant_id)
        self.repo.clear_admin_provider(tenant_id)

    def list_payments(
        self, tenant_id: str, account_id: int | None = None, status: str | None = None, limit: int = 100
    ) -> list[dict]:
        """Payments of a tenant with their status history (after due transitions are applied)."""
        self.tenancy.get_tenant(tenant_id)
        self.lifecycle.progress()
        rows = self.repo.list_payments(tenant_id, account_id, status, limit)
        histories = self.repo.history([row["authorization_id"] for row in rows])
        return [
            {
                "authorization_id": row["authorization_id"],
                "tenant_id": row["tenant_id"],
                "account_id": row["account_id"],
                "provider": row["provider"],
                "provider_id": row["provider_id"],
                "status": row["status"],
                "outcome": row["outcome"],
                "next_transition_at": row["next_at"],
                "type": row["type"],
                "amount": as_money(row["amount"]),
                "bar_code": row["bar_code"],
                "digitable_line": row["digitable_line"],
                "payment_datetime": row["payment_at"],
                "update_datetime": row["updated_at"],
                "skip_reconciliation": bool(row["skip_reconciliation"]),
                "idempotency_key": row["idempotency_key"],
                "cid": row["cid"],
                "history": histories[row["authorization_id"]],
            }
            for row in rows
        ]

    def generate_boleto(self, spec: GenerateBoleto) -> dict:
        """POST /_sandbox/boletos: a valid slip (random free field unless a trigger or one is given)."""
        bad = errors.InvalidAdminRequest
        if spec.trigger and spec.free_field:
            raise bad(details="give trigger or free_field, not both")
        amount = None if spec.amount is None else two_places(spec.amount, "amount", bad)
        charges = {
            name: two_places(getattr(spec, name), name, bad)
            for name in ("fine", "interest", "discount")
            if getattr(spec, name) is not None
        }
        if charges and not amount:
            raise bad(details="fine, interest and discount need a slip with an amount")
        if (
            charges
            and amount is not None
            and amount + charges.get("fine", 0) + charges.get("interest", 0) - charges.get("discount", 0) <= 0
        ):
            raise bad(details="discount: must leave something to pay")
        free_field = spec.free_field or self._free_field(spec.trigger)
        today = self.today(self.clock.now())
        try:
            if spec.kind == boleto.BANK:
                if spec.segment is not None:
                    raise bad(details="segment: only dealership slips have one")
                due = spec.due_date if spec.due_date_given else today + timedelta(days=DEFAULT_DUE_IN_DAYS)
                slip = boleto.generate_bank_slip(
                    amount, due_date=due, bank_code=spec.bank or "001", free_field=free_field
                )
            else:
                if spec.bank is not None or spec.due_date_given:
                    raise bad(details="bank and due_date: only bank slips have them")
                slip = boleto.generate_dealership_slip(
                    amount,
                    segment=spec.segment or "2",
                    value_id="6" if amount is not None else "7",
                    free_field=free_field,
                )
        except ValueError as error:
            raise bad(details=str(error)) from None
        if charges:
            self.repo.put_scenario(
                slip.bar_code,
                as_text(charges.get("fine")),
                as_text(charges.get("interest")),
                as_text(charges.get("discount")),
                isoformat(self.clock.now()),
            )
        body: dict = {
            "kind": slip.kind,
            "type": BANK_TYPE if slip.kind == BANK else DEALERSHIP_TYPE,
            "bar_code": slip.bar_code,
            "digitable_line": slip.digitable_line,
            "amount": as_money(slip.amount),
        }
        if slip.kind == BANK:
            body["bank"] = slip.bank_code
            body["due_date"] = slip.due_date.isoformat() if slip.due_date else None
        else:
            body["segment"] = slip.segment
        body["free_field"] = slip.free_field
        if spec.trigger:
            body["trigger"] = spec.trigger
        body.update({name: as_money(value) for name, value in charges.items()})
        return body

    def _free_field(self, trigger_name: str | None) -> str:
        if trigger_name:
            return triggers.TRIGGERS[trigger_name].free_field_prefix + self._digits(16)
        field = self._digits(25)
        return "1" + field[1:] if triggers.is_reserved_free_field(field) else field
