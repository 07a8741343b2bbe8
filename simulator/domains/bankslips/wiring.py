"""Wiring of the bank-slip domain, called from simulator/app.py: builds its services into the
container, subscribes the lifecycle to sandbox-clock changes, and names its blueprints."""

from __future__ import annotations

from flask import request

from simulator.domains.bankslips import admin_routes, routes
from simulator.domains.bankslips.lifecycle import Calendar, Lifecycle
from simulator.domains.bankslips.providers import PROVIDERS, with_processing_seconds
from simulator.domains.bankslips.repository import BankSlipRepository
from simulator.domains.bankslips.service import BankSlipService
from simulator.idempotency import IdempotencyKeys
from simulator.services import Services, services

BLUEPRINTS = (routes.blueprint, admin_routes.blueprint)

# Reads that show lifecycle effects without going through the bank-slip service.
_EVENT_READS = frozenset({"admin.list_events"})


def build(container: Services) -> None:
    config = container.config
    repo = BankSlipRepository(container.store)
    lifecycle = Lifecycle(
        container.store, repo, container.events, container.clock,
        Calendar(config.bankslip_clearing_days, config.bankslip_holidays),
        provider_for=lambda name: with_processing_seconds(PROVIDERS[name],
                                                          config.bankslip_processing_seconds))
    container.idempotency = IdempotencyKeys(container.store)
    container.bankslips = BankSlipService(
        store=container.store, repo=repo, lifecycle=lifecycle, clock=container.clock,
        ids=container.ids, events=container.events, tenancy=container.tenancy,
        credentials=container.credentials, idempotency=container.idempotency,
        fingerprint=container.fingerprint, config=config)
    # An admin clock move settles what it passes; real time passing is noticed on reads.
    container.clock.subscribe(lifecycle.on_clock_change)


def progress_before_event_reads() -> None:
    """Before GET /_sandbox/events: apply transitions real time has made due since the last read."""
    if request.endpoint in _EVENT_READS:
        services().bankslips.lifecycle.progress()
