"""Rules for tenants and Pismo accounts: creation, server login checks, account status."""

from __future__ import annotations

from dataclasses import dataclass

from pismo_sandbox.change_counters import ReferenceCache
from pismo_sandbox.clock import Clock, isoformat
from pismo_sandbox.crypto import Fingerprinter
from pismo_sandbox.domains.tenancy import errors
from pismo_sandbox.domains.tenancy.repository import TenancyRepository
from pismo_sandbox.ids import Ids
from pismo_sandbox.runtime_settings import SettingsRepository
from pismo_sandbox.store import GENERATION, Store

# Pismo account statuses seen in the docs; only NORMAL may move money or register accounts.
ACCOUNT_STATUSES = ("NORMAL", "BLOCKED", "CANCELLED", "PENDING", "CREATED")
NORMAL = "NORMAL"


@dataclass(frozen=True)
class NewTenant:
    tenant_id: str
    server_key: str
    server_secret: str  # shown once, at creation; only a keyed fingerprint is stored


class TenancyService:
    def __init__(
        self,
        store: Store,
        repository: TenancyRepository,
        clock: Clock,
        ids: Ids,
        fingerprint: Fingerprinter,
        settings: SettingsRepository,
        reference: ReferenceCache,
    ):
        self.store = store
        self.repo = repository
        self.clock = clock
        self.ids = ids
        self.fingerprint = fingerprint
        self.settings = settings
        self.reference = reference
        self._known: tuple[str, set[str]] = ("", set())

    def tenant_exists(self, tenant_id: str) -> bool:
        """Tenants are only ever removed by a reset, so a tenant seen once in this generation
        is remembered (the gateway asks on every request)."""
        generation, _ = self.settings.version(GENERATION)
        if self._known[0] != generation:
            self._known = (generation, set())
        if tenant_id in self._known[1]:
            return True
        if self.repo.get_tenant(tenant_id) is None:
            return False
        self._known[1].add(tenant_id)
        return True

    def create_tenant(self, tenant_id: str | None = None) -> NewTenant:
        tenant = NewTenant(
            tenant_id=tenant_id or f"TN-{self.ids.uuid()}",
            server_key=f"sk_{self.ids.token(12)}",
            server_secret=f"ss_{self.ids.token(24)}",
        )
        with self.store.transaction() as db:
            inserted = self.repo.insert_tenant(
                db,
                {
                    "tenant_id": tenant.tenant_id,
                    "server_key": tenant.server_key,
                    "server_secret_hash": self.fingerprint(tenant.server_secret),
                    "created_at": isoformat(self.clock.now()),
                },
            )
        if not inserted:
            raise errors.TenantExists(details=f"tenant {tenant.tenant_id} already exists")
        return tenant

    def ensure_tenant(self, tenant_id: str, server_key: str | None = None, server_secret: str | None = None) -> bool:
        """The tenant exists afterwards, with these server credentials when given (a state file
        applied on every start); True when it was created. Keys are unique across tenants."""
        with self.store.transaction() as db:
            existing = self.repo.get_tenant(tenant_id, db)
            if existing is None:
                made = NewTenant(
                    tenant_id, server_key or f"sk_{self.ids.token(12)}", server_secret or f"ss_{self.ids.token(24)}"
                )
                if not self.repo.insert_tenant(
                    db,
                    {
                        "tenant_id": tenant_id,
                        "server_key": made.server_key,
                        "server_secret_hash": self.fingerprint(made.server_secret),
                        "created_at": isoformat(self.clock.now()),
                    },
                ):
                    raise errors.TenantExists(details=f"server key {server_key} belongs to another tenant")
                return True
            if server_key is None or server_secret is None:
                return False
            changed = existing["server_key"] != server_key or not self.fingerprint.matches(
                server_secret, existing["server_secret_hash"]
            )
            if changed and not self.repo.set_server_credentials(
                db, tenant_id, server_key, self.fingerprint(server_secret)
            ):
                raise errors.TenantExists(details=f"server key {server_key} belongs to another tenant")
            return False

    def get_tenant(self, tenant_id: str) -> dict:
        tenant = self.repo.get_tenant(tenant_id)
        if tenant is None:
            raise errors.TenantNotFound(details=f"tenant {tenant_id} does not exist")
        return tenant

    def list_tenants(self) -> list[dict]:
        return self.repo.list_tenants()

    def authenticate_server(self, server_key: str, server_secret: str) -> dict:
        """The tenant whose server key and secret these are, else InvalidServerCredentials."""
        tenant = self.repo.tenant_by_server_key(server_key)
        if tenant is None or not self.fingerprint.matches(server_secret, tenant["server_secret_hash"]):
            raise errors.InvalidServerCredentials()
        return tenant

    def create_account(self, tenant_id: str, account_id: int | None = None, status: str = NORMAL) -> dict:
        self._check_status(status)
        now = isoformat(self.clock.now())
        with self.store.transaction() as db:
            if self.repo.get_tenant(tenant_id) is None:
                raise errors.TenantNotFound(details=f"tenant {tenant_id} does not exist")
            account = {
                "account_id": account_id if account_id is not None else self.repo.next_account_id(db),
                "tenant_id": tenant_id,
                "status": status,
                "created_at": now,
                "updated_at": now,
            }
            if not self.repo.insert_account(db, account):
                raise errors.AccountExists(details=f"account {account['account_id']} already exists")
        return account

    def set_account_status(self, tenant_id: str, account_id: int, status: str) -> dict:
        self._check_status(status)
        with self.store.transaction() as db:
            account = self.repo.get_account(account_id, db)
            if account is None or account["tenant_id"] != tenant_id:
                raise errors.AccountNotFound(details=f"account {account_id} does not exist in tenant {tenant_id}")
            self.repo.set_account_status(db, account_id, status, isoformat(self.clock.now()))
            updated = self.repo.get_account(account_id, db)
        assert updated is not None, "read in the transaction that changed it"
        return updated

    def delete_account(self, tenant_id: str, account_id: int) -> None:
        """Remove a Pismo account (its bank accounts go with it); tokens already issued for it
        keep their signature, so the APIs answer "account not found" to them."""
        with self.store.transaction() as db:
            account = self.repo.get_account(account_id, db)
            if account is None or account["tenant_id"] != tenant_id:
                raise errors.AccountNotFound(details=f"account {account_id} does not exist in tenant {tenant_id}")
            self.repo.delete_account(db, account_id)

    def find_account(self, tenant_id: str, account_id: int) -> dict | None:
        """The account if it exists in this tenant; another tenant's account is invisible."""
        account = self.reference.get(("account", account_id), lambda: self.repo.get_account(account_id))
        if account is None or account["tenant_id"] != tenant_id:
            return None
        return dict(account)  # the cached row stays as read

    def get_account(self, tenant_id: str, account_id: int) -> dict:
        account = self.find_account(tenant_id, account_id)
        if account is None:
            raise errors.AccountNotFound(details=f"account {account_id} does not exist in tenant {tenant_id}")
        return account

    def list_accounts(self, tenant_id: str) -> list[dict]:
        self.get_tenant(tenant_id)
        return self.repo.list_accounts(tenant_id)

    @staticmethod
    def _check_status(status: str) -> None:
        if status not in ACCOUNT_STATUSES:
            raise errors.InvalidAccountStatus(details=f"status must be one of {', '.join(ACCOUNT_STATUSES)}")
