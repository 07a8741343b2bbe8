"""Wiring of the bank-slip domain, called from simulator/app.py: builds its services,
subscribes the lifecycle to sandbox-clock changes and event reads, and names its handler modules."""

from __future__ import annotations

from pismo_sandbox.change_counters import ReferenceCache
from pismo_sandbox.domains.bankslips import admin_routes, routes
from pismo_sandbox.domains.bankslips.lifecycle import Calendar, Lifecycle
from pismo_sandbox.domains.bankslips.providers import PROVIDERS, with_processing_seconds
from pismo_sandbox.domains.bankslips.repository import BankSlipRepository
from pismo_sandbox.domains.bankslips.service import BankSlipService
from pismo_sandbox.idempotency import IdempotencyKeys
from pismo_sandbox.clock import VirtualClock
from pismo_sandbox.config import Config
from pismo_sandbox.crypto import Fingerprinter
from pismo_sandbox.domains.credentials.service import CredentialService
from pismo_sandbox.domains.tenancy.service import TenancyService
from pismo_sandbox.events import EventLog
from pismo_sandbox.ids import Ids
from pismo_sandbox.store import Store

HANDLER_MODULES = (routes, admin_routes)  # their handlers register on import


def build(
    *,
    config: Config,
    store: Store,
    clock: VirtualClock,
    ids: Ids,
    events: EventLog,
    tenancy: TenancyService,
    credentials: CredentialService,
    fingerprint: Fingerprinter,
    reference: ReferenceCache,
) -> tuple[IdempotencyKeys, BankSlipService]:
    """The idempotency keys and the bank-slip service, with the lifecycle listening to the clock."""
    repo = BankSlipRepository(store)
    lifecycle = Lifecycle(
        store,
        repo,
        events,
        clock,
        Calendar(config.bankslip_clearing_days, config.bankslip_holidays),
        provider_for=lambda name: with_processing_seconds(PROVIDERS[name], config.bankslip_processing_seconds),
    )
    idempotency = IdempotencyKeys(store)
    service = BankSlipService(
        store=store,
        repo=repo,
        lifecycle=lifecycle,
        clock=clock,
        ids=ids,
        events=events,
        tenancy=tenancy,
        credentials=credentials,
        idempotency=idempotency,
        fingerprint=fingerprint,
        config=config,
        reference=reference,
    )
    # An admin clock move settles what it passes; real time passing is noticed on reads, the
    # bank-slip service's own and the event log's.
    clock.subscribe(lifecycle.on_clock_change)
    events.catch_up_with(lifecycle.progress)
    return idempotency, service
