"""Rules for Brazilian bank accounts: who may touch which Pismo account, the scheme rules seed
002 states in prose, one active bank account per Pismo account and scheme, the documented
trigger values, and the events.

Order of checks (after the gateway's 401 and the contract's 400): accountId is digits (400
EIBA0009) -> it is the token's account (403 EIBA0007) -> the account exists in the tenant (404
EIBA0010) -> writes need it NORMAL (403 EIBA0023) -> scheme rules (400 EIBA0009) -> trigger
values -> uniqueness (409 EIBA0028). The mismatch comes before the lookup so that an account
token cannot probe which other accounts exist. Every write and its event share one
transaction: a failure at any step leaves nothing behind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pismo_sandbox.clock import Clock, isoformat
from pismo_sandbox.domains.bank_accounts import errors, ispb
from pismo_sandbox.domains.bank_accounts.repository import DELETED, BankAccountRepository
from pismo_sandbox.domains.bank_accounts.schemas import RegisterBrazilAccount
from pismo_sandbox.domains.tenancy.service import NORMAL, TenancyService
from pismo_sandbox.errors import SandboxError
from pismo_sandbox.events import EventLog
from pismo_sandbox.store import Store
from pismo_sandbox.tokens import Principal

if TYPE_CHECKING:
    import sqlite_utils

DOMAIN = "intl-bankaccounts"
REGISTERED, UPDATED = "intl_bankaccount_register", "intl_bankaccount_update"
BRAZIL = "BRAZIL"
ACCOUNT_TYPES = ("CACC", "SLRY", "SVGS", "TRAN")
INT64_MAX = 2**63 - 1

_ACCOUNT_ID = re.compile(r"[0-9]{1,19}")
_BANK = re.compile(r"[0-9]{8}")
_BRANCH = re.compile(r"[0-9]{1,4}")
_ACCOUNT_NUMBER = re.compile(r"[0-9]{1,13}")

# Documented trigger values (README, "Trigger catalogue"): reserved account numbers that make a
# registration fail the way Pismo documents, after every other rule passed and before anything
# is written. "999999999" + the last four digits of the code; all are valid account numbers.
TRIGGERS: dict[str, type[SandboxError]] = {
    "9999999990005": errors.HttpError,
    "9999999990011": errors.AccountsApiServerError,
    "9999999990012": errors.AccountsApiRejected,
    "9999999990013": errors.AccountsApiTimeout,
    "9999999990015": errors.DatabaseError,
}


@dataclass(frozen=True)
class BrazilScheme:
    """A scheme that passed every rule, normalised (branch left-padded to 4 digits)."""

    bank: str
    branch: str
    account_number: str
    account_type: str

    def as_dict(self) -> dict:
        return {
            "bank": self.bank,
            "branch": self.branch,
            "account_number": self.account_number,
            "supplementary_data": {"account_type": self.account_type},
        }


def scheme_problems(command: RegisterBrazilAccount, *, strict_ispb: bool = False) -> list[str]:
    """Every scheme rule the command breaks, as "field: rule" (never the value)."""
    problems = []
    if not _BANK.fullmatch(command.bank):
        problems.append("scheme.bank: must be 8 digits (an ISPB)")
    elif strict_ispb and ispb.lookup(command.bank) is None:
        problems.append(
            "scheme.bank: must be the ISPB of a Brazilian institution in the bundled"
            " list (PISMO_SANDBOX_STRICT_ISPB=true; the default accepts any 8 digits)"
        )
    if not _BRANCH.fullmatch(command.branch):
        problems.append("scheme.branch: must be 1 to 4 digits")
    if not _ACCOUNT_NUMBER.fullmatch(command.account_number):
        problems.append("scheme.account_number: must be 1 to 13 digits")
    elif command.account_number.startswith("0"):
        problems.append("scheme.account_number: must not start with a zero")
    if command.account_type not in ACCOUNT_TYPES:
        problems.append("scheme.supplementary_data.account_type: must be one of " + ", ".join(ACCOUNT_TYPES))
    if not isinstance(command.metadata, dict):
        problems.append("metadata: must be an object")
    return problems


def checked_scheme(command: RegisterBrazilAccount, *, strict_ispb: bool = False) -> BrazilScheme:
    """The normalised scheme, or 400 EIBA0009 naming every broken rule."""
    problems = scheme_problems(command, strict_ispb=strict_ispb)
    if problems:
        raise errors.ValidationFailed(details="; ".join(problems))
    return BrazilScheme(
        bank=command.bank,
        branch=command.branch.zfill(4),
        account_number=command.account_number,
        account_type=command.account_type,
    )


def parse_account_id(text: str) -> int:
    """Path accountId -> Pismo account id. The spec types it as a string; Pismo ids are
    integers, so anything but decimal digits (int64) is 400 EIBA0009 (ERRATA, sandbox-authored)."""
    if not _ACCOUNT_ID.fullmatch(text) or int(text) > INT64_MAX:
        raise errors.ValidationFailed(details="accountId: must be a Pismo account id (digits only)")
    return int(text)


class BankAccountService:
    def __init__(
        self,
        store: Store,
        repository: BankAccountRepository,
        tenancy: TenancyService,
        events: EventLog,
        clock: Clock,
        *,
        strict_ispb: bool = False,
    ):
        self.store = store
        self.repo = repository
        self.tenancy = tenancy
        self.events = events
        self.clock = clock
        self.strict_ispb = strict_ispb

    # -- operations --------------------------------------------------------------------------
    def register_brazil(
        self, caller: Principal, account_id_text: str, command: RegisterBrazilAccount, *, cid: str | None
    ) -> dict:
        """Register the Pismo account's Brazilian bank account; the stored row.

        Everything is checked and built before the transaction (as a payment is), so that the
        write lock, which the other workers wait for, is held for the insert and its event alone."""
        account_id = self._own_account_id(caller, account_id_text)
        self._require_normal(self._account(caller, account_id))
        scheme = checked_scheme(command, strict_ispb=self.strict_ispb)
        trigger = TRIGGERS.get(scheme.account_number)
        if trigger is not None:
            raise trigger(details="sandbox trigger value of scheme.account_number")
        moment = self.clock.now()
        now = isoformat(moment)
        scheme_fields = scheme.as_dict()
        row = {
            "tenant_id": caller.tenant_id,
            "account_id": account_id,
            "scheme_name": BRAZIL,
            "scheme": scheme_fields,
            "account_type": scheme.account_type,
            "metadata": command.metadata,
            "now": now,
        }
        event = self.events.prepare(
            org_id=caller.tenant_id,
            domain=DOMAIN,
            event=REGISTERED,
            cid=cid,
            now=moment,
            data={
                "account_id": account_id,
                "creation_datetime": now,
                "scheme": scheme_fields,
                "type": scheme.account_type,
                "metadata": command.metadata,
            },
        )
        with self.store.transaction() as db:
            registered = self.repo.insert(db, row)
            if registered is None:
                raise errors.AlreadyExists(
                    details="this account already has a Brazilian bank account (one per account)"
                )
            self.events.write(db, event)
        return registered

    def get(self, caller: Principal, account_id_text: str, scheme_name: str) -> dict:
        """The active bank account under ``scheme_name``; reading needs no particular status."""
        account_id = self._own_account_id(caller, account_id_text)
        self._account(caller, account_id)
        return self._active(None, caller, account_id, scheme_name)

    def delete(self, caller: Principal, account_id_text: str, scheme_name: str, *, cid: str | None) -> None:
        """Remove the active bank account (kept as DELETED); it may be registered again."""
        account_id = self._own_account_id(caller, account_id_text)
        with self.store.transaction() as db:
            self._require_normal(self._account(caller, account_id))
            bank_account = self._active(db, caller, account_id, scheme_name)
            moment = self.clock.now()
            self.repo.mark_deleted(db, bank_account["id"], isoformat(moment))
            self.events.publish(
                db,
                org_id=caller.tenant_id,
                domain=DOMAIN,
                event=UPDATED,
                cid=cid,
                now=moment,
                data={
                    "account_id": account_id,
                    "scheme": bank_account["scheme"],
                    "status": DELETED,
                    "updated_datetime": isoformat(moment),
                    "type": bank_account["account_type"],
                    "metadata": bank_account["metadata"],
                },
            )

    # -- shared checks -----------------------------------------------------------------------
    @staticmethod
    def _own_account_id(caller: Principal, text: str) -> int:
        account_id = parse_account_id(text)
        if account_id != caller.account_id:
            raise errors.AccountMismatch(details="accountId in the path is not the token's account")
        return account_id

    def _account(self, caller: Principal, account_id: int) -> dict:
        account = self.tenancy.find_account(caller.tenant_id, account_id)
        if account is None:
            raise errors.AccountNotFound(details="the token's account does not exist in its tenant")
        return account

    @staticmethod
    def _require_normal(account: dict) -> None:
        if account["status"] != NORMAL:
            raise errors.AccountNotNormal(details=f"account status is {account['status']}")

    def _active(self, db: sqlite_utils.Database | None, caller: Principal, account_id: int, scheme_name: str) -> dict:
        if scheme_name != BRAZIL:  # only Brazilian bank accounts can be registered here
            raise errors.BankAccountNotFound(
                details="the sandbox registers BRAZIL bank accounts only; no other scheme is ever found"
            )
        found = self.repo.find_active(db, caller.tenant_id, account_id, scheme_name)
        if found is None:
            raise errors.BankAccountNotFound(details="no bank account under this scheme is registered for this account")
        return found
