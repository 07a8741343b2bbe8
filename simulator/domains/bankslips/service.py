"""Bank-slip rules: validate a slip with the tenant's provider, pay it exactly once per
idempotency key, list receipts; and the admin helpers (boleto generator, provider setting,
payment listing). No Flask here.

Order of checks on Pay bank slip (each failure commits nothing and leaves the key unspent):
idempotency key -> account (EIP0030, EIP0012, EIP0013 when not NORMAL) -> amount and slip
(EIP0008) -> provider (EIP0023) -> already paid (EIP0065) -> prior validation and its
external_authorization (EIP0008) -> upstream triggers -> one transaction that creates the
payment, emits "Authorization created" and stores the response under the key.

A key already known is claimed first, in a transaction of its own (replay, 409, or a lease
held while the request runs); a new key, the usual case, is claimed inside that last
transaction, so the payment costs one transaction, not two.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from pismo_sandbox.clock import Clock, isoformat, parse_instant
from pismo_sandbox.config import Config
from pismo_sandbox.crypto import Fingerprinter
from pismo_sandbox.domains.bankslips import boleto, errors, providers, registry, triggers
from pismo_sandbox.domains.bankslips.boleto import BANK, InvalidSlip, Slip
from pismo_sandbox.domains.bankslips.lifecycle import BRT, PROCESSING, Lifecycle, due_datetime
from pismo_sandbox.domains.bankslips.repository import BankSlipRepository, ReceiptsFilter, SlipAlreadyPaid
from pismo_sandbox.domains.bankslips.schemas import GenerateBoleto, PayCommand, ReceiptsQuery, ValidateCommand
from pismo_sandbox.domains.credentials.service import CredentialService
from pismo_sandbox.domains.tenancy.service import NORMAL, TenancyService
from pismo_sandbox.errors import SandboxError
from pismo_sandbox.events import EventLog
from pismo_sandbox.idempotency import (Claim, IdempotencyKeys, Scope, StoredResponse, Unclaimed,
                                  request_fingerprint)
from pismo_sandbox.ids import Ids
from pismo_sandbox.store import Store
from pismo_sandbox.tokens import Principal

BANK_TYPE, DEALERSHIP_TYPE = 1, 2
CURRENCY_CODES = {"BRL", "986"}
CURSOR_SEPARATOR = "~"
DEFAULT_DUE_IN_DAYS = 30


@dataclass(frozen=True)
class PayResult:
    status: int
    body: str          # JSON text; a replay sends the very same text
    replayed: bool


@dataclass(frozen=True)
class Charges:
    original: Decimal | None
    fine: Decimal | None
    interest: Decimal | None
    discount: Decimal | None

    @property
    def total(self) -> Decimal | None:
        if self.original is None:
            return None
        return self.original + (self.fine or 0) + (self.interest or 0) - (self.discount or 0)


def _money(value: Decimal | str | None) -> float | None:
    return None if value is None else float(Decimal(value))


def _text(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def _two_places(value: Decimal, name: str, error=errors.ValidationFailed) -> Decimal:
    try:
        exact = value.quantize(Decimal("0.01"))
    except InvalidOperation:
        raise error(details=f"{name}: is not a valid amount") from None
    if exact != value:
        raise error(details=f"{name}: must have at most 2 decimal places")
    return exact


class BankSlipService:
    def __init__(self, *, store: Store, repo: BankSlipRepository, lifecycle: Lifecycle, clock: Clock,
                 ids: Ids, events: EventLog, tenancy: TenancyService, credentials: CredentialService,
                 idempotency: IdempotencyKeys, fingerprint: Fingerprinter, config: Config):
        self.store = store
        self.repo = repo
        self.lifecycle = lifecycle
        self.clock = clock
        self.ids = ids
        self.events = events
        self.tenancy = tenancy
        self.credentials = credentials
        self.idempotency = idempotency
        self.fingerprint = fingerprint
        self.config = config

    # -- shared rules ----------------------------------------------------------------------------
    @staticmethod
    def today(now: datetime) -> date:
        """The business date in Brazil (resolves due-date factors and clearing)."""
        return now.astimezone(BRT).date()

    def read_slip(self, type_: int, bar_code: str | None, line: str | None, today: date, *,
                  prefix: str = "") -> Slip:
        """Parse and check the slip the request names; every failure is EIP0008 with details.
        Both forms may be sent when they denote the same slip (ERRATA S-12)."""
        given = [(name, text) for name, text in (("bar_code", bar_code), ("digitable_line", line))
                 if text is not None]
        if not given:
            raise errors.ValidationFailed(
                details=f"{prefix}bar_code or {prefix}digitable_line: one of them is required")
        slips = []
        for name, text in given:
            parse = boleto.parse_bar_code if name == "bar_code" else boleto.parse_digitable_line
            try:
                slips.append(parse(text, today=today, field=prefix + name))
            except InvalidSlip as invalid:
                raise errors.ValidationFailed(details=f"{invalid.field}: {invalid.reason}") from None
        if len(slips) == 2 and slips[0].bar_code != slips[1].bar_code:
            first = next(i for i, (a, b) in enumerate(zip(slips[0].bar_code, slips[1].bar_code)) if a != b)
            raise errors.ValidationFailed(
                details=f"{prefix}bar_code and {prefix}digitable_line are different bank slips (the"
                        f" bar code the digitable line encodes differs from {prefix}bar_code from"
                        f" position {first + 1}); send one of them, or both of the same slip")
        slip = slips[0]
        actual = BANK_TYPE if slip.kind == BANK else DEALERSHIP_TYPE
        if type_ != actual:
            described = {BANK_TYPE: "1 (bank slip)", DEALERSHIP_TYPE: "2 (dealership slip)"}
            why = "first digit 8" if actual == DEALERSHIP_TYPE else "first digit is not 8"
            raise errors.ValidationFailed(
                details=f"{prefix}type: is {described.get(type_, type_)} but the slip is a"
                        f" {slip.kind} slip ({why}); send type {actual}")
        return slip

    def resolve_provider(self, tenant_id: str) -> providers.Resolved | None:
        return providers.resolve(self.repo.admin_provider(tenant_id),
                                 self.credentials.list_public(tenant_id))

    def require_provider(self, tenant_id: str) -> providers.Provider:
        resolved = self.resolve_provider(tenant_id)
        if resolved is None:
            raise errors.BankingGateway4xx(
                details="no bank-slip provider is configured for this tenant: register a BAAS"
                        " credential (BTG or CELCOIN) or a JDPI credential with POST"
                        " /banking-auth/v1/credentials, or choose one (ITAU too) with PUT"
                        " /_sandbox/tenants/{tenant_id}/bankslip-provider")
        return providers.with_processing_seconds(resolved.provider, self.config.bankslip_processing_seconds)

    def charges(self, slip: Slip) -> Charges:
        scenario = self.repo.scenario(slip.bar_code) if slip.amount is not None else None
        if scenario is None:
            return Charges(slip.amount, None, None, None)
        return Charges(slip.amount, *(Decimal(scenario[k]) if scenario[k] is not None else None
                                      for k in ("fine", "interest", "discount")))

    def refuse_if_paid(self, tenant_id: str, slip: Slip, db=None) -> None:
        active = self.repo.active_payment(tenant_id, slip.bar_code, db)
        if active is not None:
            raise errors.ProviderConflict(
                details=f"the provider already has a payment of this bank slip ({active['status']});"
                        " a slip is paid once")

    def _digits(self, count: int) -> str:
        return f"{int(self.ids.token(16), 16) % 10 ** count:0{count}d}"

    # -- Validate bank slip ----------------------------------------------------------------------
    def validate(self, principal: Principal, command: ValidateCommand) -> dict:
        now = self.clock.now()
        self.lifecycle.progress(now)
        slip = self.read_slip(command.type, command.bar_code, command.digitable_line, self.today(now))
        provider = self.require_provider(principal.tenant_id)
        triggers.fire(slip, triggers.VALIDATE)
        self.refuse_if_paid(principal.tenant_id, slip)
        charges = self.charges(slip)
        external = self._digits(6) if provider.returns_external_authorization else None
        self.repo.save_validation({
            "tenant_id": principal.tenant_id, "account_id": principal.account_id,
            "bar_code": slip.bar_code, "provider": provider.name, "external_authorization": external,
            "amount": _text(charges.total), "original_amount": _text(charges.original),
            "fine": _text(charges.fine), "interest": _text(charges.interest),
            "discount": _text(charges.discount), "validated_at": isoformat(now),
            "expires_at": isoformat(now + timedelta(seconds=self.config.bankslip_validation_ttl_seconds)),
        })
        return self._validate_body(command.type, slip, charges, external)

    @staticmethod
    def _validate_body(type_: int, slip: Slip, charges: Charges, external: str | None) -> dict:
        body: dict = {"type": type_, "bar_code": slip.bar_code, "digitable_line": slip.digitable_line}
        if charges.total is not None:
            body["amount"] = _money(charges.total)
            body["original_amount"] = _money(charges.original)
        for name in ("fine", "interest", "discount"):
            if getattr(charges, name) is not None:
                body[name] = _money(getattr(charges, name))
        if slip.currency:
            body["currency_code"] = slip.currency
        if slip.due_date:
            body["due_datetime"] = due_datetime(slip.due_date.isoformat())
        if slip.kind == BANK:
            body["bank"] = {"code": slip.bank_code}
            name = registry.bank_name(slip.bank_code)
            if name:
                body["bank"]["name"] = name
        else:
            body["dealership"] = {"segment": slip.segment,
                                  "segment_name": registry.SEGMENT_NAMES.get(slip.segment, ""),
                                  "company_code": slip.bar_code[15:19]}
        beneficiary = registry.beneficiary(slip)
        body["beneficiary"] = {"name": beneficiary.name, "document": beneficiary.document,
                               "document_type": beneficiary.document_type}
        if external is not None:
            body["external_authorization"] = external
        return body

    # -- Pay bank slip ---------------------------------------------------------------------------
    def pay(self, principal: Principal, command: PayCommand, *, key: str, operation_id: str,
            body: dict, skip_reconciliation: bool, cid: str | None) -> PayResult:
        """Pay once per (tenant, account, key): replay, refuse with 409, or pay."""
        scope = Scope(principal.tenant_id, principal.account_id, key, operation_id)
        fingerprint = request_fingerprint(self.fingerprint, operation_id, body,
                                          {"x-skip-reconciliation": skip_reconciliation})
        if self.idempotency.get(scope) is None:
            # A new key (the usual case): claimed, used and completed in the payment's own
            # transaction; a failure before it commits leaves nothing to release.
            try:
                return self._pay(Unclaimed(scope, fingerprint), principal, command,
                                 skip_reconciliation, cid)
            except SandboxError:
                if self.idempotency.get(scope) is None:
                    raise
                # A twin request took the key meanwhile (and may have paid the slip): the key
                # answers (replay, in flight, conflict), as if this request had come second.
        return self._holding_key(scope, fingerprint, lambda claim: self._pay(
            claim, principal, command, skip_reconciliation, cid))

    def _holding_key(self, scope: Scope, fingerprint: str, work) -> PayResult:
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

    def _pay(self, claim, principal: Principal, command: PayCommand, skip_reconciliation: bool,
             cid: str | None) -> PayResult:
        tenant_id = principal.tenant_id
        now = self.clock.now()
        self.lifecycle.progress(now)
        # What the token may not touch is refused before anything says whether it exists
        # (ERRATA S-14): another account's id is 403 whether or not that account exists.
        if command.account_id != principal.account_id:
            raise errors.AccountMismatch(
                details=f"account_id {command.account_id} is not the token's account")
        account = self.tenancy.find_account(tenant_id, command.account_id)
        if account is None:
            raise errors.AccountNotFound(details=f"account_id {command.account_id} does not exist")
        if account["status"] != NORMAL:
            raise errors.AccountsApi4xx(
                details=f"account {command.account_id} is {account['status']}; only NORMAL accounts"
                        " can pay bank slips")
        amount = _two_places(command.amount, "amount")
        if amount <= 0:
            raise errors.ValidationFailed(details="amount: must be greater than 0")
        if command.currency_code is not None and command.currency_code.upper() not in CURRENCY_CODES:
            raise errors.ValidationFailed(details="currency_code: bank slips are paid in BRL (986)")
        if command.bankslip is None:
            raise errors.ValidationFailed(details="bankslip: is required")
        ref = command.bankslip
        slip = self.read_slip(ref.type, ref.bar_code, ref.digitable_line, self.today(now),
                              prefix="bankslip.")
        provider = self.require_provider(tenant_id)
        self.refuse_if_paid(tenant_id, slip)
        validation = self._check_validation(principal, slip, provider, command, amount, now)
        payment = (principal, slip, validation, provider, amount, skip_reconciliation, cid)
        if triggers.fire(slip, triggers.PAY) is None:
            return self._commit_payment(claim, *payment)

        def slowly(held: Claim) -> PayResult:  # the slow provider: the key is in flight meanwhile
            time.sleep(triggers.SLOW_SECONDS)  # outside any lock
            return self._commit_payment(held, *payment)

        if isinstance(claim, Unclaimed):
            return self._holding_key(claim.scope, claim.fingerprint, slowly)
        return slowly(claim)

    def _commit_payment(self, claim: Claim | Unclaimed, principal: Principal, slip: Slip,
                        validation: dict, provider: providers.Provider, amount: Decimal,
                        skip_reconciliation: bool, cid: str | None) -> PayResult:
        """The one transaction: payment, "Authorization created", and the answer under the key."""
        tenant_id = principal.tenant_id
        outcome = triggers.outcome_for(amount)
        with self.store.transaction() as db:
            if isinstance(claim, Unclaimed):
                claim = self.idempotency.claim_in(db, claim.scope, claim.fingerprint,
                                                  isoformat(self.clock.now()))
                if isinstance(claim, StoredResponse):  # a twin request committed first
                    return PayResult(claim.status, claim.body, replayed=True)
            self.refuse_if_paid(tenant_id, slip, db)  # a payment under another key may have won
            paid_at = self.clock.now()
            row = self._payment_row(db, principal, slip, validation, provider, amount, outcome,
                                    skip_reconciliation, claim.scope.key, cid, paid_at)
            try:
                self.repo.insert_payment(db, row)
            except SlipAlreadyPaid:
                raise errors.ProviderConflict(details="the provider already has a payment of this"
                                                      " bank slip; a slip is paid once") from None
            self.repo.delete_validation(db, tenant_id, principal.account_id, slip.bar_code)
            self.events.publish(db, org_id=tenant_id, domain="authorization", event="authorization-event",
                                data=self._authorization_event(row), cid=cid, now=paid_at)
            text = json.dumps(self.pay_response(row), separators=(",", ":"))
            self.idempotency.complete(db, claim, 202, text, isoformat(paid_at))
        return PayResult(202, text, replayed=False)

    def _check_validation(self, principal: Principal, slip: Slip, provider: providers.Provider,
                          command: PayCommand, amount: Decimal, now: datetime) -> dict:
        validation = self.repo.validation(principal.tenant_id, principal.account_id, slip.bar_code)
        if validation is None:
            raise errors.ValidationFailed(
                details="bank slip not validated by this account: call POST"
                        " /integrated-payments/v1/bankslips/validate first")
        if parse_instant(validation["expires_at"]) <= now:
            raise errors.ValidationFailed(
                details=f"the validation of this bank slip expired at {validation['expires_at']};"
                        " validate it again")
        if validation["provider"] != provider.name:
            raise errors.ValidationFailed(
                details=f"the slip was validated with {validation['provider']} but the tenant's"
                        f" provider is now {provider.name}; validate it again")
        expected = validation["external_authorization"]
        if expected is not None:
            if command.external_authorization is None:
                raise errors.ValidationFailed(
                    details="external_authorization: is required (Validate bank slip returned one)")
            if command.external_authorization != expected:
                raise errors.ValidationFailed(
                    details="external_authorization: does not match the one Validate bank slip returned")
        if validation["amount"] is not None and amount != Decimal(validation["amount"]):
            raise errors.ValidationFailed(
                details=f"amount: must be {validation['amount']}, the amount Validate bank slip"
                        f" returned (got {amount})")
        # bankslip.original_amount, like due_datetime, is informational (ERRATA S-13): the
        # sandbox takes both from the slip and the validation, whatever the request says.
        return validation

    def _payment_row(self, db, principal: Principal, slip: Slip, validation: dict,
                     provider: providers.Provider, amount: Decimal, outcome: str,
                     skip_reconciliation: bool, key: str, cid: str | None, paid_at: datetime) -> dict:
        beneficiary = registry.beneficiary(slip)
        return {
            "authorization_id": self.repo.next_authorization_id(db),
            "tenant_id": principal.tenant_id,
            "account_id": principal.account_id,
            "provider": provider.name,
            "provider_id": self.ids.uuid(),
            "authorization_code": self._digits(6),
            "external_authorization": validation["external_authorization"],
            "type": BANK_TYPE if slip.kind == BANK else DEALERSHIP_TYPE,
            "bar_code": slip.bar_code,
            "digitable_line": slip.digitable_line,
            "amount": _text(amount),
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
            "amount": _money(row["amount"]),
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
        body["additional_info"] = f"NumCtrl = {_control_number(row)}"
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
            "amount": _money(row["amount"]),
            "original_amount": _money(row["original_amount"]),
            "payment_datetime": row["payment_at"],
            "due_datetime": due_datetime(row["due_date"]),
            "interest": _money(row["interest"]),
            "fine": _money(row["fine"]),
            "discount": _money(row["discount"]),
        }
        metadata = {k: v for k, v in metadata.items() if v is not None}  # "(if any)"
        return {
            "account_id": row["account_id"],
            "amount": _money(row["amount"]),
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

    # -- List bank slip receipts -----------------------------------------------------------------
    def receipts(self, principal: Principal, query: ReceiptsQuery) -> dict:
        self.lifecycle.progress()
        begin = self._instant(query.begin, "beginDatetime")
        end = self._instant(query.end, "endDatetime")
        if begin and end and begin > end:
            raise errors.ValidationFailed(details="beginDatetime: must not be after endDatetime")
        rows = self.repo.receipts(ReceiptsFilter(
            tenant_id=principal.tenant_id, account_id=principal.account_id, limit=query.per_page + 1,
            descending=query.order.lower() != "asc", authorization_id=query.authorization_id,
            begin=begin, end=end, after=self._cursor(query.cursor)))
        page = rows[:query.per_page]
        body: dict = {"items": [self._receipt(row) for row in page], "per_page": query.per_page}
        if len(rows) > query.per_page:
            last = page[-1]
            body["last_evaluated_payment_datetime"] = \
                f"{last['payment_at']}{CURSOR_SEPARATOR}{last['authorization_id']}"
        return body

    @staticmethod
    def _instant(value, name: str) -> str | None:
        if value is None:
            return None
        try:
            return isoformat(parse_instant(value if isinstance(value, datetime) else str(value)))
        except ValueError:
            raise errors.ValidationFailed(details=f"{name}: must be an RFC 3339 date-time") from None

    @classmethod
    def _cursor(cls, text: str | None) -> tuple[str, int | None] | None:
        if not text:
            return None
        moment, _, last_id = text.partition(CURSOR_SEPARATOR)
        try:
            return (isoformat(parse_instant(moment)), int(last_id) if last_id else None)
        except ValueError:
            raise errors.ValidationFailed(
                details="lastEvaluatedPaymentDatetimeQuery: must be the last_evaluated_payment_datetime"
                        " of a previous page (or an RFC 3339 date-time)") from None

    @staticmethod
    def _receipt(row: dict) -> dict:
        receipt = {
            "authorization_id": row["authorization_id"],
            "account_id": row["account_id"],
            "status": row["status"],
            "type": row["type"],
            "amount": _money(row["amount"]),
        }
        for name in ("original_amount", "fine", "interest", "discount"):
            if row[name] is not None:
                receipt[name] = _money(row[name])
        receipt.update({
            "currency_code": "BRL",
            "bar_code": row["bar_code"],
            "digitable_line": row["digitable_line"],
        })
        if row["due_date"]:
            receipt["due_datetime"] = due_datetime(row["due_date"])
        receipt.update({
            "payment_datetime": row["payment_at"],
            "update_datetime": row["updated_at"],
            "beneficiary": {"name": row["beneficiary_name"], "document": row["beneficiary_document"],
                            "document_type": row["beneficiary_document_type"]},
            "provider_id": row["provider_id"],
            "settlement_partner": providers.PROVIDERS[row["provider"]].settlement_partner,
            "additional_info": f"NumCtrl = {_control_number(row)}",
        })
        return receipt

    # -- admin -----------------------------------------------------------------------------------
    def provider_setting(self, tenant_id: str) -> dict:
        self.tenancy.get_tenant(tenant_id)
        resolved = self.resolve_provider(tenant_id)
        body: dict = {"tenant_id": tenant_id, "provider": None, "source": None}
        if resolved is not None:
            p = resolved.provider
            body.update({"provider": p.name, "source": resolved.source,
                         "returns_external_authorization": p.returns_external_authorization,
                         "reconciles": p.reconciles, "settlement_partner": p.settlement_partner})
        return body

    def set_provider(self, tenant_id: str, provider: str) -> dict:
        self.tenancy.get_tenant(tenant_id)
        self.repo.set_admin_provider(tenant_id, provider, isoformat(self.clock.now()))
        return self.provider_setting(tenant_id)

    def clear_provider(self, tenant_id: str) -> None:
        self.tenancy.get_tenant(tenant_id)
        self.repo.clear_admin_provider(tenant_id)

    def list_payments(self, tenant_id: str, account_id: int | None = None, status: str | None = None,
                      limit: int = 100) -> list[dict]:
        """Payments of a tenant with their status history (after due transitions are applied)."""
        self.tenancy.get_tenant(tenant_id)
        self.lifecycle.progress()
        rows = self.repo.list_payments(tenant_id, account_id, status, limit)
        histories = self.repo.history([row["authorization_id"] for row in rows])
        return [{
            "authorization_id": row["authorization_id"],
            "tenant_id": row["tenant_id"],
            "account_id": row["account_id"],
            "provider": row["provider"],
            "provider_id": row["provider_id"],
            "status": row["status"],
            "outcome": row["outcome"],
            "next_transition_at": row["next_at"],
            "type": row["type"],
            "amount": _money(row["amount"]),
            "bar_code": row["bar_code"],
            "digitable_line": row["digitable_line"],
            "payment_datetime": row["payment_at"],
            "update_datetime": row["updated_at"],
            "skip_reconciliation": bool(row["skip_reconciliation"]),
            "idempotency_key": row["idempotency_key"],
            "cid": row["cid"],
            "history": histories[row["authorization_id"]],
        } for row in rows]

    def generate_boleto(self, spec: GenerateBoleto) -> dict:
        """POST /_sandbox/boletos: a valid slip (random free field unless a trigger or one is given)."""
        bad = errors.InvalidAdminRequest
        if spec.trigger and spec.free_field:
            raise bad(details="give trigger or free_field, not both")
        amount = None if spec.amount is None else _two_places(spec.amount, "amount", bad)
        charges = {name: _two_places(getattr(spec, name), name, bad)
                   for name in ("fine", "interest", "discount") if getattr(spec, name) is not None}
        if charges and not amount:
            raise bad(details="fine, interest and discount need a slip with an amount")
        if charges and amount + charges.get("fine", 0) + charges.get("interest", 0) \
                - charges.get("discount", 0) <= 0:
            raise bad(details="discount: must leave something to pay")
        free_field = spec.free_field or self._free_field(spec.trigger)
        today = self.today(self.clock.now())
        try:
            if spec.kind == boleto.BANK:
                if spec.segment is not None:
                    raise bad(details="segment: only dealership slips have one")
                due = spec.due_date if spec.due_date_given else today + timedelta(days=DEFAULT_DUE_IN_DAYS)
                slip = boleto.generate_bank_slip(amount, due_date=due, bank_code=spec.bank or "001",
                                                 free_field=free_field)
            else:
                if spec.bank is not None or spec.due_date_given:
                    raise bad(details="bank and due_date: only bank slips have them")
                slip = boleto.generate_dealership_slip(
                    amount, segment=spec.segment or "2", value_id="6" if amount is not None else "7",
                    free_field=free_field)
        except ValueError as error:
            raise bad(details=str(error)) from None
        if charges:
            self.repo.put_scenario(slip.bar_code, *(_text(charges.get(n)) for n in ("fine", "interest", "discount")),
                                   isoformat(self.clock.now()))
        body: dict = {"kind": slip.kind, "type": BANK_TYPE if slip.kind == BANK else DEALERSHIP_TYPE,
                      "bar_code": slip.bar_code, "digitable_line": slip.digitable_line,
                      "amount": _money(slip.amount)}
        if slip.kind == BANK:
            body["bank"] = slip.bank_code
            body["due_date"] = slip.due_date.isoformat() if slip.due_date else None
        else:
            body["segment"] = slip.segment
        body["free_field"] = slip.free_field
        if spec.trigger:
            body["trigger"] = spec.trigger
        body.update({name: _money(value) for name, value in charges.items()})
        return body

    def _free_field(self, trigger_name: str | None) -> str:
        if trigger_name:
            return triggers.TRIGGERS[trigger_name].free_field_prefix + self._digits(16)
        field = self._digits(25)
        return "1" + field[1:] if triggers.is_reserved_free_field(field) else field


def _control_number(row: dict) -> str:
    """The provider's control number (JD's SPB "NumCtrlIF" style): payment date + authorization."""
    return f"{row['payment_at'][:10].replace('-', '')}{row['authorization_id']:010d}"
