"""Pay bank slip: exactly one payment per idempotency key. No Flask here.

Order of checks on Pay bank slip (each failure commits nothing and leaves the key unspent):
idempotency key -> account (EIP0030, EIP0012, EIP0013 when not NORMAL) -> amount and slip
(EIP0008) -> provider (EIP0023) -> already paid (EIP0065) -> prior validation and its
external_authorization (EIP0008) -> upstream triggers -> one transaction that creates the
payment, emits "Authorization created" and stores the response under the key.

A key is taken to be new (the usual case) and recorded with the answer at the end of that
last transaction, so the payment costs one transaction, not two. When it was not new (a check
fails, or the transaction finds the key recorded and rolls back) the key answers instead:
replay, 409, or claimed in a transaction of its own (a lease held while the request runs).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from pismo_sandbox import turns
from pismo_sandbox.clock import isoformat, parse_instant
from pismo_sandbox.domains.bankslips import errors, providers, registry, triggers
from pismo_sandbox.domains.bankslips.boleto import BANK, Slip
from pismo_sandbox.domains.bankslips.lifecycle import PROCESSING, due_datetime
from pismo_sandbox.domains.bankslips.repository import SlipAlreadyPaid
from pismo_sandbox.domains.bankslips.schemas import PayCommand
from pismo_sandbox.domains.tenancy.service import NORMAL
from pismo_sandbox.errors import SandboxError
from pismo_sandbox.idempotency import Claim, KeyTaken, Scope, StoredResponse, Unclaimed, request_fingerprint
from pismo_sandbox.jsonio import encode_text
from pismo_sandbox.tokens import Principal

if TYPE_CHECKING:
    import sqlite_utils
from pismo_sandbox.domains.bankslips.rules import (
    BANK_TYPE,
    CURRENCY_CODES,
    DEALERSHIP_TYPE,
    PayResult,
    SlipRules,
    as_money,
    as_text,
    control_number,
    two_places,
)


class PaySlip(SlipRules):
    # -- Pay bank slip ---------------------------------------------------------------------------
    def pay(
        self,
        principal: Principal,
        command: PayCommand,
        *,
        key: str,
        operation_id: str,
        body: dict,
        skip_reconciliation: bool,
        cid: str | None,
    ) -> PayResult:
        """Pay once per (tenant, account, key): replay, refuse with 409, or pay."""
        scope = Scope(principal.tenant_id, principal.account_id, key, operation_id)
        fingerprint = request_fingerprint(
            self.fingerprint, operation_id, body, {"x-skip-reconciliation": skip_reconciliation}
        )
        try:
            # Taken to be new: recorded with the answer in the payment's own transaction; a
            # failure before it commits leaves nothing to release.
            return self._pay(Unclaimed(scope, fingerprint), principal, command, skip_reconciliation, cid)
        except KeyTaken:
            pass  # the key was known (it rolled the payment back): it answers below
        except SandboxError:
            if self.idempotency.get(scope) is None:
                raise
            # A known key (a retry, whose slip its first request may have paid and whose
            # validation it used up, or a twin that committed meanwhile): the key answers
            # (replay, in flight, conflict), before any check of this request.
        return self._holding_key(
            scope, fingerprint, lambda claim: self._pay(claim, principal, command, skip_reconciliation, cid)
        )

    def _holding_key(self, scope: Scope, fingerprint: str, work: Callable[[Claim], PayResult]) -> PayResult:
        """Claim the key in a committed transaction of its own (a concurrent request with it
        sees it in flight), then ``work(claim)``; replay a stored answer instead; give the key
        back if the work fails (it committed nothing)."""
        claimed = self.idempotency.claim(scope, fingerprint, isoformat(self.clock.now()))
        if isinstance(claimed, StoredResponse):
            return PayResult(claimed.status, claimed.body, replayed=True)
        try:
            return work(claimed)
        except BaseException:
            self.idempotency.release(claimed)
            raise

    def _pay(
        self,
        claim: Claim | Unclaimed,
        principal: Principal,
        command: PayCommand,
        skip_reconciliation: bool,
        cid: str | None,
    ) -> PayResult:
        tenant_id = principal.tenant_id
        now = self.clock.now()
        # What the token may not touch is refused before anything says whether it exists
        # (ERRATA S-14): another account's id is 403 whether or not that account exists.
        if command.account_id != principal.account_id:
            raise errors.AccountMismatch(details=f"account_id {command.account_id} is not the token's account")
        account = self.tenancy.find_account(tenant_id, command.account_id)
        if account is None:
            raise errors.AccountNotFound(details=f"account_id {command.account_id} does not exist")
        if account["status"] != NORMAL:
            raise errors.AccountsApi4xx(
                details=f"account {command.account_id} is {account['status']}; only NORMAL accounts can pay bank slips"
            )
        amount = two_places(command.amount, "amount")
        if amount <= 0:
            raise errors.ValidationFailed(details="amount: must be greater than 0")
        if command.currency_code is not None and command.currency_code.upper() not in CURRENCY_CODES:
            raise errors.ValidationFailed(details="currency_code: bank slips are paid in BRL (986)")
        if command.bankslip is None:
            raise errors.ValidationFailed(details="bankslip: is required")
        ref = command.bankslip
        slip = self.read_slip(ref.type, ref.bar_code, ref.digitable_line, self.today(now), prefix="bankslip.")
        provider = self.require_provider(tenant_id)
        self.refuse_if_paid(tenant_id, slip, now)
        validation = self._check_validation(principal, slip, provider, command, amount, now)
        payment = (principal, slip, validation, provider, amount, skip_reconciliation, cid)
        if triggers.fire(slip, triggers.PAY) is None:
            return self._commit_payment(claim, *payment)

        def slowly(held: Claim) -> PayResult:  # the slow provider: the key is in flight meanwhile
            turns.pause(triggers.SLOW_SECONDS)  # outside any lock, and out of the operation's turn
            return self._commit_payment(held, *payment)

        if isinstance(claim, Unclaimed):
            return self._holding_key(claim.scope, claim.fingerprint, slowly)
        return slowly(claim)

    def _commit_payment(
        self,
        claim: Claim | Unclaimed,
        principal: Principal,
        slip: Slip,
        validation: dict,
        provider: providers.Provider,
        amount: Decimal,
        skip_reconciliation: bool,
        cid: str | None,
    ) -> PayResult:
        """The one transaction: payment, "Authorization created", and the answer under the key.

        Everything is built before it, so the write lock is held for the SQL alone: only the
        authorization_id, which the payment's INSERT allocates, is filled in inside."""
        tenant_id = principal.tenant_id
        paid_at = self.clock.now()
        row = self._payment_row(
            principal,
            slip,
            validation,
            provider,
            amount,
            triggers.outcome_for(amount),
            skip_reconciliation,
            claim.scope.key,
            cid,
            paid_at,
        )
        event = self.events.prepare(
            org_id=tenant_id,
            domain="authorization",
            event="authorization-event",
            data=self._authorization_event({**row, "authorization_id": 0}),  # the id is set below
            cid=cid,
            now=paid_at,
        )
        with self.store.transaction() as db:
            row["authorization_id"] = event["data"]["authorization"]["id"] = self._insert_payment(
                db, row, slip, paid_at
            )
            self.repo.delete_validation(db, tenant_id, principal.required_account_id, slip.bar_code)
            self.events.write(db, event)
            text = encode_text(self.pay_response(row))
            if isinstance(claim, Unclaimed):
                self.idempotency.complete_new(db, claim, 202, text, isoformat(paid_at))  # or KeyTaken
            else:
                self.idempotency.complete(db, claim, 202, text, isoformat(paid_at))
        return PayResult(202, text, replayed=False)

    def _insert_payment(self, db: sqlite_utils.Database, row: dict, slip: Slip, paid_at: datetime) -> int:
        """The payment's authorization_id, once inserted. A payment of the slip under another
        key may have committed since the first look: the unique index refuses the insert, and
        ``refuse_if_paid`` (in this transaction, under the write lock) answers the conflict
        unless that payment's due move takes it out of the paid statuses; then the slip is free
        and the insert is made again."""
        try:
            return self.repo.insert_payment(db, row)
        except SlipAlreadyPaid:
            self.refuse_if_paid(row["tenant_id"], slip, paid_at, db)
        return self.repo.insert_payment(db, row)

    def _check_validation(
        self,
        principal: Principal,
        slip: Slip,
        provider: providers.Provider,
        command: PayCommand,
        amount: Decimal,
        now: datetime,
    ) -> dict:
        validation = self.repo.validation(principal.tenant_id, principal.required_account_id, slip.bar_code)
        if validation is None:
            raise errors.ValidationFailed(
                details="bank slip not validated by this account: call POST"
                " /integrated-payments/v1/bankslips/validate first"
            )
        if parse_instant(validation["expires_at"]) <= now:
            raise errors.ValidationFailed(
                details=f"the validation of this bank slip expired at {validation['expires_at']}; validate it again"
            )
        if validation["provider"] != provider.name:
            raise errors.ValidationFailed(
                details=f"the slip was validated with {validation['provider']} but the tenant's"
                f" provider is now {provider.name}; validate it again"
            )
        expected = validation["external_authorization"]
        if expected is not None:
            if command.external_authorization is None:
                raise errors.ValidationFailed(
                    details="external_authorization: is required (Validate bank slip returned one)"
                )
            if command.external_authorization != expected:
                raise errors.ValidationFailed(
                    details="external_authorization: does not match the one Validate bank slip returned"
                )
        if validation["amount"] is not None and amount != Decimal(validation["amount"]):
            raise errors.ValidationFailed(
                details=f"amount: must be {validation['amount']}, the amount Validate bank slip returned (got {amount})"
            )
        # bankslip.original_amount, like due_datetime, is informational (ERRATA S-13): the
        # sandbox takes both from the slip and the validation, whatever the request says.
        return validation

    def _payment_row(
        self,
        principal: Principal,
        slip: Slip,
        validation: dict,
        provider: providers.Provider,
        amount: Decimal,
        outcome: str,
        skip_reconciliation: bool,
        key: str,
        cid: str | None,
        paid_at: datetime,
    ) -> dict:
        beneficiary = registry.beneficiary(slip)
        return {
            "tenant_id": principal.tenant_id,
            "account_id": principal.account_id,
            "provider": provider.name,
            "provider_id": self.ids.uuid(),
            "authorization_code": self._digits(6),
            "external_authorization": validation["external_authorization"],
            "type": BANK_TYPE if slip.kind == BANK else DEALERSHIP_TYPE,
            "bar_code": slip.bar_code,
            "digitable_line": slip.digitable_line,
            "amount": as_text(amount),
            "original_amount": validation["original_amount"],
            "fine": validation["fine"],
            "interest": validation["interest"],
            "discount": validation["discount"],
            "due_date": slip.due_date.isoformat() if slip.due_date else None,
            "beneficiary_name": beneficiary.name,
            "beneficiary_document": beneficiary.document,
            "beneficiary_document_type": beneficiary.document_type,
            "status": PROCESSING,
            "outcome": outcome,
            "next_at": self.lifecycle.first_due(PROCESSING, outcome, paid_at, provider.name),
            "skip_reconciliation": int(skip_reconciliation),
            "idempotency_key": key,
            "cid": cid,
            "payment_at": isoformat(paid_at),
            "updated_at": isoformat(paid_at),
        }

    @staticmethod
    def pay_response(row: dict) -> dict:
        """The 202 body of seed 003 (bankslips.bankslipsPayResponse)."""
        body = {
            "account_id": row["account_id"],
            "amount": as_money(row["amount"]),
            "authorization_id": row["authorization_id"],
            "bar_code": row["bar_code"],
            "currency_code": "BRL",
            "customer_name": row["beneficiary_name"],
            "digitable_line": row["digitable_line"],
        }
        if row["due_date"]:
            body["due_datetime"] = due_datetime(row["due_date"])
        body["payment_datetime"] = row["payment_at"]
        body["status"] = row["status"]
        body["additional_info"] = f"NumCtrl = {control_number(row)}"
        return body

    @staticmethod
    def _authorization_event(row: dict) -> dict:
        """Authorization created (authorization, authorization-event, v1); slip data in metadata."""
        metadata = {
            "bankslip_type": row["type"],
            "beneficiary_name": row["beneficiary_name"],
            "beneficiary_document": row["beneficiary_document"],
            "beneficiary_document_type": row["beneficiary_document_type"],
            "digitable_line": row["digitable_line"],
            "bar_code": row["bar_code"],
            "amount": as_money(row["amount"]),
            "original_amount": as_money(row["original_amount"]),
            "payment_datetime": row["payment_at"],
            "due_datetime": due_datetime(row["due_date"]),
            "interest": as_money(row["interest"]),
            "fine": as_money(row["fine"]),
            "discount": as_money(row["discount"]),
        }
        metadata = {k: v for k, v in metadata.items() if v is not None}  # "(if any)"
        return {
            "account_id": row["account_id"],
            "amount": as_money(row["amount"]),
            "authorization": {
                "id": row["authorization_id"],
                "code": row["authorization_code"],
                "descriptor": "Pagamento de Contas",
                "operation_description": "PAYMENT",
                "processing_code": "007700",
                "balance_impact": -1,
                "destination_currency": "BRL",
            },
            "metadata": metadata,
        }
