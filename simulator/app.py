"""create_app(config): builds the sandbox core and wires the gateway, the operations' URL rules and
their dispatcher, and the dashboard. Wiring only: no process-wide side effects (logging is set up by the entry
points, pismo_sandbox.logs.configure)."""

from __future__ import annotations

from flask import Flask

from pismo_sandbox import gateway, handlers
from pismo_sandbox.admin import documents as admin_documents, routes as admin_routes
from pismo_sandbox.change_counters import REFERENCE, ChangeCounter, ReferenceCache
from pismo_sandbox.clock import VirtualClock
from pismo_sandbox.config import Config
from pismo_sandbox.contract.operations import load_contract
from pismo_sandbox.crypto import Fingerprinter, SecretBox, derive, load_master_key
from pismo_sandbox.dashboard.routes import blueprint as dashboard_blueprint
from pismo_sandbox.dispatch import OperationDispatcher
from pismo_sandbox.domains.bank_accounts import routes as bank_accounts_routes
from pismo_sandbox.domains.bank_accounts.repository import BankAccountRepository
from pismo_sandbox.domains.bank_accounts.service import BankAccountService
from pismo_sandbox.domains.bankslips import wiring as bankslips
from pismo_sandbox.domains.credentials import routes as credentials_routes
from pismo_sandbox.domains.credentials.repository import CredentialRepository
from pismo_sandbox.domains.credentials.service import CredentialService
from pismo_sandbox.domains.deliveries import wiring as deliveries
from pismo_sandbox.domains.passport import routes as passport_routes
from pismo_sandbox.domains.passport.service import PassportService
from pismo_sandbox.domains.tenancy.repository import TenancyRepository
from pismo_sandbox.domains.tenancy.service import TenancyService
from pismo_sandbox.errors import register_error_handlers
from pismo_sandbox.events import EventLog
from pismo_sandbox.faults.engine import FaultEngine
from pismo_sandbox.faults.repository import FaultRepository
from pismo_sandbox.gateway.journal import JournalRepository
from pismo_sandbox.http_request import SandboxRequest
from pismo_sandbox.ids import Ids
from pismo_sandbox.jsonio import OrjsonProvider
from pismo_sandbox.core import EXTENSION, SandboxCore
from pismo_sandbox.runtime_settings import SettingsRepository
from pismo_sandbox.store import JOURNAL_MIGRATIONS, Store, journal_path
from pismo_sandbox.tokens import Tokens

# The modules whose @operation handlers serve the bundled operations (importing one registers them).
HANDLER_MODULES = (
    admin_routes,
    admin_documents,
    passport_routes,
    credentials_routes,
    bank_accounts_routes,
    *bankslips.HANDLER_MODULES,
    *deliveries.HANDLER_MODULES,
)


def build_sandbox(config: Config) -> SandboxCore:
    """Everything the simulator needs, without Flask (usable from the CLI and tests)."""
    store = Store(config.db_path, config.synchronous, lock_timeout=config.write_lock_timeout_seconds)
    store.migrate()
    journal_store = Store(
        journal_path(config.db_path),
        config.synchronous,
        JOURNAL_MIGRATIONS,
        lock_timeout=config.write_lock_timeout_seconds,
    )
    journal_store.migrate()
    master = load_master_key(config.master_key, config.db_path)
    ids = Ids(config.id_seed)
    settings = SettingsRepository(store)
    reference = ReferenceCache(ChangeCounter(store.path, REFERENCE))
    store.on_commit[REFERENCE] = reference.counter.bump
    clock = VirtualClock(settings)
    tokens = Tokens(
        derive(master, "tokens", 64),
        clock,
        ids,
        ttl_seconds=config.token_ttl_seconds,
        algorithm=config.token_algorithm,
        generation=settings.generation,
    )
    fingerprint = Fingerprinter(derive(master, "fingerprints"))
    box = SecretBox(derive(master, "credentials"))
    tenancy = TenancyService(store, TenancyRepository(store), clock, ids, fingerprint, settings, reference)
    events = EventLog(store, ids)
    credentials = CredentialService(store, CredentialRepository(store), box, clock)
    idempotency, bankslip_service = bankslips.build(  # also subscribes the lifecycle to the clock
        config=config,
        store=store,
        clock=clock,
        ids=ids,
        events=events,
        tenancy=tenancy,
        credentials=credentials,
        fingerprint=fingerprint,
        reference=reference,
    )
    return SandboxCore(
        config=config,
        store=store,
        settings=settings,
        clock=clock,
        ids=ids,
        contract=load_contract(),
        tokens=tokens,
        box=box,
        fingerprint=fingerprint,
        events=events,
        journal=JournalRepository(journal_store, config.journal_limit),
        tenancy=tenancy,
        passport=PassportService(tenancy, tokens),
        credentials=credentials,
        faults=FaultEngine(store, FaultRepository(store), clock, ids, settings),
        bank_accounts=BankAccountService(
            store, BankAccountRepository(store), tenancy, events, clock, strict_ispb=config.strict_ispb
        ),
        idempotency=idempotency,
        bankslips=bankslip_service,
        deliveries=deliveries.build(config=config, store=store, ids=ids, box=box),
    )


def create_app(config: Config | None = None) -> Flask:
    config = config or Config.from_env()
    app = Flask("pismo_sandbox")
    app.request_class = SandboxRequest
    app.config["MAX_CONTENT_LENGTH"] = config.max_body_bytes
    app.json = OrjsonProvider(app)
    app.json.sort_keys = False
    app.url_map.strict_slashes = False
    sandbox = build_sandbox(config)
    app.extensions[EXTENSION] = sandbox
    register_error_handlers(app)
    the_gateway = gateway.Gateway(sandbox)
    gateway.install(app, the_gateway)  # for the requests Flask serves itself
    handlers.mount(app, sandbox.contract)  # a URL rule per operation, from the bundled specs
    app.register_blueprint(dashboard_blueprint)  # /_sandbox/ui (docs/dashboard.md)
    app.wsgi_app = OperationDispatcher(app, the_gateway, handlers.HANDLERS)  # type: ignore[method-assign]
    return app
