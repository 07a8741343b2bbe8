"""The bank-slip service: one object holding the domain's collaborators, with one module per
operation (validate.py, pay.py, receipts.py, admin.py) over the shared rules (rules.py).
No Flask here.
"""

from __future__ import annotations


from pismo_sandbox.change_counters import ReferenceCache
from pismo_sandbox.clock import Clock
from pismo_sandbox.config import Config
from pismo_sandbox.crypto import Fingerprinter
from pismo_sandbox.domains.bankslips.lifecycle import Lifecycle
from pismo_sandbox.domains.bankslips.repository import BankSlipRepository
from pismo_sandbox.domains.credentials.service import CredentialService
from pismo_sandbox.domains.tenancy.service import TenancyService
from pismo_sandbox.events import EventLog
from pismo_sandbox.idempotency import IdempotencyKeys
from pismo_sandbox.ids import Ids
from pismo_sandbox.store import Store
from pismo_sandbox.domains.bankslips.admin import BankSlipAdmin
from pismo_sandbox.domains.bankslips.pay import PaySlip
from pismo_sandbox.domains.bankslips.receipts import ListReceipts
from pismo_sandbox.domains.bankslips.validate import ValidateSlip


class BankSlipService(ValidateSlip, PaySlip, ListReceipts, BankSlipAdmin):
    def __init__(
        self,
        *,
        store: Store,
        repo: BankSlipRepository,
        lifecycle: Lifecycle,
        clock: Clock,
        ids: Ids,
        events: EventLog,
        tenancy: TenancyService,
        credentials: CredentialService,
        idempotency: IdempotencyKeys,
        fingerprint: Fingerprinter,
        config: Config,
        reference: ReferenceCache,
    ):
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
        self.reference = reference
