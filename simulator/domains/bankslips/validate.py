"""Validate bank slip: a slip read, checked with the tenant's provider and remembered for the
payment that may follow. No Flask here."""

from __future__ import annotations

from datetime import timedelta

from pismo_sandbox.clock import isoformat
from pismo_sandbox.domains.bankslips import registry, triggers
from pismo_sandbox.domains.bankslips.boleto import BANK, Slip
from pismo_sandbox.domains.bankslips.lifecycle import due_datetime
from pismo_sandbox.domains.bankslips.schemas import ValidateCommand
from pismo_sandbox.tokens import Principal
from pismo_sandbox.domains.bankslips.rules import Charges, SlipRules, as_money, as_text


class ValidateSlip(SlipRules):
    # -- Validate bank slip ----------------------------------------------------------------------
    def validate(self, principal: Principal, command: ValidateCommand) -> dict:
        now = self.clock.now()
        slip = self.read_slip(command.type, command.bar_code, command.digitable_line, self.today(now))
        provider = self.require_provider(principal.tenant_id)
        triggers.fire(slip, triggers.VALIDATE)
        self.refuse_if_paid(principal.tenant_id, slip, now)
        charges = self.charges(slip)
        external = self._digits(6) if provider.returns_external_authorization else None
        self.repo.save_validation(
            {
                "tenant_id": principal.tenant_id,
                "account_id": principal.account_id,
                "bar_code": slip.bar_code,
                "provider": provider.name,
                "external_authorization": external,
                "amount": as_text(charges.total),
                "original_amount": as_text(charges.original),
                "fine": as_text(charges.fine),
                "interest": as_text(charges.interest),
                "discount": as_text(charges.discount),
                "validated_at": isoformat(now),
                "expires_at": isoformat(now + timedelta(seconds=self.config.bankslip_validation_ttl_seconds)),
            }
        )
        return self._validate_body(command.type, slip, charges, external)

    @staticmethod
    def _validate_body(type_: int, slip: Slip, charges: Charges, external: str | None) -> dict:
        body: dict = {"type": type_, "bar_code": slip.bar_code, "digitable_line": slip.digitable_line}
        if charges.total is not None:
            body["amount"] = as_money(charges.total)
            body["original_amount"] = as_money(charges.original)
        for name in ("fine", "interest", "discount"):
            if getattr(charges, name) is not None:
                body[name] = as_money(getattr(charges, name))
        if slip.currency:
            body["currency_code"] = slip.currency
        if slip.due_date:
            body["due_datetime"] = due_datetime(slip.due_date.isoformat())
        if slip.kind == BANK:
            body["bank"] = {"code": slip.bank_code}
            bank_name = registry.bank_name(slip.bank_code or "")
            if bank_name:
                body["bank"]["name"] = bank_name
        else:
            body["dealership"] = {
                "segment": slip.segment,
                "segment_name": registry.SEGMENT_NAMES.get(slip.segment or "", ""),
                "company_code": slip.bar_code[15:19],
            }
        beneficiary = registry.beneficiary(slip)
        body["beneficiary"] = {
            "name": beneficiary.name,
            "document": beneficiary.document,
            "document_type": beneficiary.document_type,
        }
        if external is not None:
            body["external_authorization"] = external
        return body
