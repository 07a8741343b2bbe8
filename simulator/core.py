"""The sandbox core: one object holding the store, clock, ids, keys and domain services of a running sandbox.

create_app builds it; operation handlers reach it as ``ctx.sandbox``, the dashboard through ``current_sandbox()``;
tests can build one without Flask.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import current_app

if TYPE_CHECKING:
    from datetime import datetime

    from pismo_sandbox.clock import VirtualClock
    from pismo_sandbox.config import Config
    from pismo_sandbox.contract.operations import Contract
    from pismo_sandbox.crypto import Fingerprinter, SecretBox
    from pismo_sandbox.domains.bank_accounts.service import BankAccountService
    from pismo_sandbox.domains.bankslips.service import BankSlipService
    from pismo_sandbox.domains.credentials.service import CredentialService
    from pismo_sandbox.domains.deliveries.service import DeliveryService
    from pismo_sandbox.domains.passport.service import PassportService
    from pismo_sandbox.domains.tenancy.service import TenancyService
    from pismo_sandbox.events import EventLog
    from pismo_sandbox.faults.engine import FaultEngine
    from pismo_sandbox.gateway.journal import JournalRepository
    from pismo_sandbox.idempotency import IdempotencyKeys
    from pismo_sandbox.ids import Ids
    from pismo_sandbox.runtime_settings import SettingsRepository
    from pismo_sandbox.store import Store
    from pismo_sandbox.tokens import Tokens

EXTENSION = "pismo_sandbox"


@dataclass
class SandboxCore:
    config: "Config"
    store: "Store"
    settings: "SettingsRepository"
    clock: "VirtualClock"
    ids: "Ids"
    contract: "Contract"
    tokens: "Tokens"
    box: "SecretBox"
    fingerprint: "Fingerprinter"
    events: "EventLog"
    journal: "JournalRepository"
    tenancy: "TenancyService"
    passport: "PassportService"
    credentials: "CredentialService"
    faults: "FaultEngine"
    bank_accounts: "BankAccountService"
    idempotency: "IdempotencyKeys"
    bankslips: "BankSlipService"
    deliveries: "DeliveryService"

    def close(self) -> None:
        """Close this thread's connections (the state's and the journal's)."""
        self.store.close()
        self.journal.store.close()

    def reset(self) -> "datetime":
        """Wipe the simulated state and the request journal and put the clock back on wall time
        (generated secrets stay); the clock's time after it."""
        self.store.wipe()
        self.journal.clear()
        return self.clock.reset()


def current_sandbox() -> SandboxCore:
    """The running app's services (inside a request or app context)."""
    return current_app.extensions[EXTENSION]
