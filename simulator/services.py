"""The service container: one object holding the store, clock, ids, keys and domain services.

create_app builds it; views reach it through ``services()``; tests can build one without Flask.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import current_app

if TYPE_CHECKING:
    from datetime import datetime

    from simulator.clock import VirtualClock
    from simulator.config import Config
    from simulator.contract import Contract
    from simulator.crypto import Fingerprinter, SecretBox
    from simulator.domains.bank_accounts.service import BankAccountService
    from simulator.domains.bankslips.service import BankSlipService
    from simulator.domains.credentials.service import CredentialService
    from simulator.domains.passport.service import PassportService
    from simulator.domains.tenancy.service import TenancyService
    from simulator.events import EventLog
    from simulator.faults.engine import FaultEngine
    from simulator.gateway.journal import JournalRepository
    from simulator.idempotency import IdempotencyKeys
    from simulator.ids import Ids
    from simulator.settings import SettingsRepository
    from simulator.store import Store
    from simulator.tokens import Tokens

EXTENSION = "pismo_sandbox"


@dataclass
class Services:
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


def services() -> Services:
    """The running app's services (inside a request or app context)."""
    return current_app.extensions[EXTENSION]
