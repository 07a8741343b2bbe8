"""Wiring of event delivery, called from simulator/app.py and the server: builds the service,
names its handler module, and starts the background worker in a serving process."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pismo_sandbox.config import Config
from pismo_sandbox.crypto import SecretBox
from pismo_sandbox.domains.deliveries import routes
from pismo_sandbox.domains.deliveries.parts import DeliveryParts
from pismo_sandbox.domains.deliveries.service import DeliveryService
from pismo_sandbox.domains.deliveries.worker import DeliveryWorker
from pismo_sandbox.ids import Ids
from pismo_sandbox.store import Store

if TYPE_CHECKING:
    from pismo_sandbox.core import SandboxCore

HANDLER_MODULES = (routes,)  # its handlers register on import


def build(*, config: Config, store: Store, ids: Ids, box: SecretBox) -> DeliveryService:
    return DeliveryService(DeliveryParts.build(config=config, store=store, ids=ids, box=box))


def start_worker(sandbox: SandboxCore) -> DeliveryWorker:
    """Start this process's delivery thread (one per server worker; leases keep each attempt
    to one of them)."""
    worker = DeliveryWorker(
        sandbox.deliveries.outbox, poll_seconds=sandbox.config.delivery_poll_seconds, catch_up=sandbox.events.catch_up
    )
    worker.start()
    return worker


def prepare(sandbox: SandboxCore, config: Config, public_base: str) -> list[str]:
    """Before the server forks: release leases left by a previous run (no worker of this one
    runs yet), load the fault file's delivery rules, and subscribe the --subscribe receivers
    (once per URL and format: a restart does not subscribe them again). Lines to print."""
    from pismo_sandbox.domains.deliveries.files import read_delivery_rules

    lines = []
    released = sandbox.deliveries.outbox.release_leases()
    if released:
        lines.append(f"{released} delivery lease(s) of the previous run released; pending deliveries resume")
    if config.faults_file:
        rules = read_delivery_rules(config.faults_file)
        if rules:
            sandbox.deliveries.replace_rules(rules)
            lines.append(f"{len(rules)} delivery fault rule(s) loaded from {config.faults_file}")
    for url in [u.strip() for u in (config.subscribe or "").split(",") if u.strip()]:
        existing = [s for s in sandbox.deliveries.list() if s["url"] == url and s["format"] == config.subscribe_format]
        if existing:
            lines.append(f"{url} already subscribed ({existing[0]['subscription_id']})")
            continue
        body = {"url": url, "format": config.subscribe_format}
        if config.subscribe_secret:
            body["secret"] = config.subscribe_secret
        made = sandbox.deliveries.subscribe(body, public_base)
        lines.append(f"subscribed {url} ({config.subscribe_format}, {made['subscription_id']})")
    return lines


def served_at(config: Config, placeholder: str, base_url: str) -> None:
    """Once a ``--port 0`` server is bound (before any worker runs): subscriptions made at
    start-up get the real address in their SNS URLs (SubscribeURL, SigningCertURL)."""
    from pismo_sandbox.app import build_sandbox

    sandbox = build_sandbox(config)
    try:
        sandbox.deliveries.served_at(placeholder, base_url)
    finally:
        sandbox.close()
