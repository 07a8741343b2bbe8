"""The documented trigger catalogue: slip values that make the simulated upstream misbehave.

Two kinds of trigger, one table (README, "Trigger catalogue"):

* **outcome triggers**: the cents of the paid amount choose how the payment's lifecycle ends
  (,91 ERROR, ,92 TIMEOUT, ,93 CANCELLED after PAID); any other amount settles.
* **upstream triggers**: a slip whose free field (bar-code positions 20-44) starts with a
  marker and a 4-digit code answers that code's documented error. Marker ``99998`` fires on
  Validate bank slip, ``99999`` on Pay bank slip (so a pay trigger slip still validates).
  The code is the EIP number (``99999 0024 ...`` -> EIP0024); ``99999 9001`` holds the pay
  request for ``SLOW_SECONDS`` (the in-flight window of an idempotency key).

``POST /_sandbox/boletos {"trigger": "<name>"}`` builds such slips; the names are the keys of
``TRIGGERS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from pismo_sandbox.domains.bankslips import errors
from pismo_sandbox.domains.bankslips.boleto import Slip
from pismo_sandbox.errors import SandboxError

VALIDATE, PAY = "validate", "pay"
MARKERS = {VALIDATE: "99998", PAY: "99999"}
SLOW_CODE = "9001"
SLOW_SECONDS = 2.0

# Lifecycle outcomes (terminal statuses) chosen by the cents of the paid amount.
SETTLED, ERROR, TIMEOUT, CANCELLED = "SETTLED", "ERROR", "TIMEOUT", "CANCELLED"
OUTCOME_BY_CENTS: dict[int, str] = {91: ERROR, 92: TIMEOUT, 93: CANCELLED}


@dataclass(frozen=True)
class Trigger:
    name: str  # what POST /_sandbox/boletos accepts
    stage: str  # VALIDATE or PAY
    code: str  # 4 digits after the marker
    error: type[SandboxError] | None  # None: not an error (the slow provider)
    what: str  # the upstream story, for the README

    @property
    def free_field_prefix(self) -> str:
        return MARKERS[self.stage] + self.code


_PAY_ERRORS: tuple[tuple[type[SandboxError], str], ...] = (
    (errors.ApiTimeout, "an upstream API does not answer in time"),
    (errors.HttpRequestError, "the HTTP call to an upstream API fails"),
    (errors.InternalError, "the payment service fails internally"),
    (errors.AccountsTimeout, "the Accounts API times out"),
    (errors.AccountsApi4xx, "the Accounts API refuses the account"),
    (errors.IntlBankAccountsTimeout, "the IntlBankAccounts API times out"),
    (errors.IntlBankAccountsApi4xx, "the IntlBankAccounts API answers 4xx"),
    (errors.P2pTimeout, "the P2P API times out"),
    (errors.BankingGatewayTimeout, "the banking gateway (provider) times out"),
    (errors.BankingGateway4xx, "the provider refuses the payment (4xx)"),
    (errors.BankingGateway5xx, "the provider fails (5xx)"),
    (errors.TransactionDatabaseError, "the transaction database fails"),
    (errors.BankSlipDatabaseError, "the bank-slip database fails"),
    (errors.ScheduleConciliationError, "scheduling the reconciliation fails"),
    (errors.IntegrityMessageError, "sending the integrity message fails"),
    (errors.ProviderConflict, "the provider answers 409 (duplicate payment)"),
    (errors.P2pUnmarshalError, "the P2P API answers an unreadable error body"),
)

_VALIDATE_ERRORS: tuple[tuple[type[SandboxError], str], ...] = (
    (errors.ApiTimeout, "an upstream API does not answer in time"),
    (errors.HttpRequestError, "the HTTP call to the provider fails"),
    (errors.InternalError, "the payment service fails internally"),
    (errors.BankingGatewayTimeout, "the banking gateway (provider) times out"),
    (errors.BankingGateway4xx, "the provider does not know the slip (4xx)"),
    (errors.BankingGateway5xx, "the provider fails (5xx)"),
    (errors.ProviderConflict, "the provider answers 409"),
)


def _build() -> dict[str, Trigger]:
    table: dict[str, Trigger] = {}
    for error, what in _PAY_ERRORS:
        table[error.code] = Trigger(error.code, PAY, error.code[3:], error, what)
    for error, what in _VALIDATE_ERRORS:
        name = f"validate-{error.code}"
        table[name] = Trigger(name, VALIDATE, error.code[3:], error, what)
    table["slow-provider"] = Trigger(
        "slow-provider", PAY, SLOW_CODE, None, f"the provider takes {SLOW_SECONDS:g} s to answer"
    )
    return table


TRIGGERS: dict[str, Trigger] = _build()
_BY_PREFIX: dict[str, Trigger] = {t.free_field_prefix: t for t in TRIGGERS.values()}


def trigger_for(slip: Slip, stage: str) -> Trigger | None:
    """The trigger this slip carries for ``stage``, if any."""
    trigger = _BY_PREFIX.get(slip.free_field[:9])
    return trigger if trigger is not None and trigger.stage == stage else None


def fire(slip: Slip, stage: str) -> Trigger | None:
    """Raise the documented error the slip asks for at this stage; return a non-error trigger."""
    trigger = trigger_for(slip, stage)
    if trigger is None:
        return None
    if trigger.error is not None:
        raise trigger.error(details=f"sandbox trigger {trigger.name}: {trigger.what}")
    return trigger


def outcome_for(amount: Decimal) -> str:
    """How a payment of ``amount`` ends: its cents pick ERROR, TIMEOUT or CANCELLED, else SETTLED."""
    cents = int((amount * 100) % 100)
    return OUTCOME_BY_CENTS.get(cents, SETTLED)


def is_reserved_free_field(free_field: str) -> bool:
    """Free fields starting with a marker are triggers; random ones must avoid them."""
    return free_field[:5] in MARKERS.values()
