"""Bank-slip rules every operation shares: the slip read from its bar code or digitable line,
the tenant's provider, the charges on a slip, money in two places, a slip paid at most once.
No Flask here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from pismo_sandbox.clock import isoformat
from pismo_sandbox.domains.bankslips import boleto, errors, providers
from pismo_sandbox.domains.bankslips.boleto import BANK, InvalidSlip, Slip
from pismo_sandbox.domains.bankslips.lifecycle import BRT

if TYPE_CHECKING:
    import sqlite_utils

    from pismo_sandbox.change_counters import ReferenceCache
    from pismo_sandbox.clock import Clock
    from pismo_sandbox.config import Config
    from pismo_sandbox.crypto import Fingerprinter
    from pismo_sandbox.domains.bankslips.lifecycle import Lifecycle
    from pismo_sandbox.domains.bankslips.repository import BankSlipRepository
    from pismo_sandbox.domains.credentials.service import CredentialService
    from pismo_sandbox.domains.tenancy.service import TenancyService
    from pismo_sandbox.errors import SandboxError
    from pismo_sandbox.events import EventLog
    from pismo_sandbox.idempotency import IdempotencyKeys
    from pismo_sandbox.ids import Ids
    from pismo_sandbox.store import Store


BANK_TYPE, DEALERSHIP_TYPE = 1, 2
CURRENCY_CODES = {"BRL", "986"}
CURSOR_SEPARATOR = "~"
DEFAULT_DUE_IN_DAYS = 30


@dataclass(frozen=True)
class PayResult:
    status: int
    body: str  # JSON text; a replay sends the very same text
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


def as_money(value: Decimal | str | None) -> float | None:
    return None if value is None else float(Decimal(value))


def as_text(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def two_places(value: Decimal, name: str, error: type[SandboxError] = errors.ValidationFailed) -> Decimal:
    try:
        exact = value.quantize(Decimal("0.01"))
    except InvalidOperation:
        raise error(details=f"{name}: is not a valid amount") from None
    if exact != value:
        raise error(details=f"{name}: must have at most 2 decimal places")
    return exact


class SlipRules:
    """The shared rules; each operation's class builds on them (see service.BankSlipService)."""

    # The collaborators, set by BankSlipService.
    store: Store
    repo: BankSlipRepository
    lifecycle: Lifecycle
    clock: Clock
    ids: Ids
    events: EventLog
    tenancy: TenancyService
    credentials: CredentialService
    idempotency: IdempotencyKeys
    fingerprint: Fingerprinter
    config: Config
    reference: ReferenceCache

    @staticmethod
    def today(now: datetime) -> date:
        """The business date in Brazil (resolves due-date factors and clearing)."""
        return now.astimezone(BRT).date()

    def read_slip(self, type_: int, bar_code: str | None, line: str | None, today: date, *, prefix: str = "") -> Slip:
        """Parse and check the slip the request names; every failure is EIP0008 with details.
        Both forms may be sent when they denote the same slip (ERRATA S-12)."""
        given = [(name, text) for name, text in (("bar_code", bar_code), ("digitable_line", line)) if text is not None]
        if not given:
            raise errors.ValidationFailed(
                details=f"{prefix}bar_code or {prefix}digitable_line: one of them is required"
            )
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
                f" position {first + 1}); send one of them, or both of the same slip"
            )
        slip = slips[0]
        actual = BANK_TYPE if slip.kind == BANK else DEALERSHIP_TYPE
        if type_ != actual:
            described = {BANK_TYPE: "1 (bank slip)", DEALERSHIP_TYPE: "2 (dealership slip)"}
            why = "first digit 8" if actual == DEALERSHIP_TYPE else "first digit is not 8"
            raise errors.ValidationFailed(
                details=f"{prefix}type: is {described.get(type_, type_)} but the slip is a"
                f" {slip.kind} slip ({why}); send type {actual}"
            )
        return slip

    def resolve_provider(self, tenant_id: str) -> providers.Resolved | None:
        return self.reference.get(
            ("bankslip-provider", tenant_id),
            lambda: providers.resolve(self.repo.admin_provider(tenant_id), self.credentials.list_public(tenant_id)),
        )

    def require_provider(self, tenant_id: str) -> providers.Provider:
        resolved = self.resolve_provider(tenant_id)
        if resolved is None:
            raise errors.BankingGateway4xx(
                details="no bank-slip provider is configured for this tenant: register a BAAS"
                " credential (BTG or CELCOIN) or a JDPI credential with POST"
                " /banking-auth/v1/credentials, or choose one (ITAU too) with PUT"
                " /_sandbox/tenants/{tenant_id}/bankslip-provider"
            )
        return providers.with_processing_seconds(resolved.provider, self.config.bankslip_processing_seconds)

    def charges(self, slip: Slip) -> Charges:
        scenario = None
        if slip.amount is not None:
            scenario = self.reference.get("bankslip-scenarios", self.repo.scenarios).get(slip.bar_code)
        if scenario is None:
            return Charges(slip.amount, None, None, None)
        return Charges(
            slip.amount,
            *(Decimal(scenario[k]) if scenario[k] is not None else None for k in ("fine", "interest", "discount")),
        )

    def refuse_if_paid(
        self, tenant_id: str, slip: Slip, now: datetime, db: sqlite_utils.Database | None = None
    ) -> None:
        active = self.repo.active_payment(tenant_id, slip.bar_code, db)
        if active is not None and active["next_at"] is not None and active["next_at"] <= isoformat(now):
            # Its next move is due (and may take it out of the paid statuses): made now, since
            # transitions are otherwise applied by reads, the clock and the server's catch-up.
            self.lifecycle.progress_slip(tenant_id, slip.bar_code, now)
            active = self.repo.active_payment(tenant_id, slip.bar_code, db)
        if active is not None:
            raise errors.ProviderConflict(
                details=f"the provider already has a payment of this bank slip ({active['status']});"
                " a slip is paid once"
            )

    def _digits(self, count: int) -> str:
        return f"{int(self.ids.token(16), 16) % 10**count:0{count}d}"


def control_number(row: dict) -> str:
    """The provider's control number (JD's SPB "NumCtrlIF" style): payment date + authorization."""
    return f"{row['payment_at'][:10].replace('-', '')}{row['authorization_id']:010d}"
