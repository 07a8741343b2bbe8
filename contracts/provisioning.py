"""Provisioning for a contract run: a simulator of the harness's own (seeded ids, frozen clock),
the tenant, account and bank-slip provider a run needs (made through the admin API), the valid
boletos the hooks hand to cases, and the target's fault rules (noted or cleared)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import TYPE_CHECKING

from pismo_sandbox.client import AdminClient, AdminError
from pismo_sandbox.contracts.run_state import RunState
from pismo_sandbox.contracts.results import HarnessError, HarnessResult
from pismo_sandbox.contracts.target import Credentials, Target, unreachable

if TYPE_CHECKING:
    from flask import Flask

# The instant a simulator the harness builds for itself is frozen at (a Monday, 09:00 in Brasilia).
FROZEN_AT = "2030-06-03T12:00:00Z"


def fresh_app(cleanup: list[str], seed: int) -> Flask:
    """A simulator of the harness's own: a temporary database, ids seeded and the clock frozen at
    FROZEN_AT, so that every response (ids, timestamps) and therefore every request derived from
    one (links, values reused from responses) is the same on every run with the same seed."""
    from pismo_sandbox.app import create_app
    from pismo_sandbox.config import Config

    directory = tempfile.mkdtemp(prefix="pismo-contract-")
    cleanup.append(directory)
    app = create_app(Config(db_path=os.path.join(directory, "sandbox.db"), id_seed=seed))
    try:
        AdminClient.in_process(app).freeze_clock(FROZEN_AT)
    except AdminError as error:
        raise HarnessError(f"could not freeze the simulator's clock ({error.status}): {error.body}") from None
    return app


@contextmanager
def _answering(target: Target) -> Iterator[None]:
    """A target that does not answer the admin client at all is the run's error, naming the fix."""
    try:
        yield
    except AdminError as error:
        if error.status is None:
            raise unreachable(error.method, f"{target.admin.base_url}{error.path}", error) from None
        raise


def note_fault_rules(target: Target, result: HarnessResult) -> None:
    """Leave the target's fault rules alone, but say so when there are any: they shape answers."""
    try:
        with _answering(target):
            rules = target.admin.faults()
    except AdminError:
        return
    if rules:
        result.notes.append(
            f"the target has {len(rules)} fault rule(s) ({', '.join(r.get('id', '?') for r in rules)});"
            " they were left in place and may cause failures (--clear-faults removes them)"
        )


def clear_fault_rules(target: Target, simulator: bool) -> None:
    """No injected faults while the contract is checked. A simulator without fault support
    answers 404/405; any other target (the real sandbox) may answer anything: it has none."""
    try:
        with _answering(target):
            target.admin.clear_faults()
    except AdminError as error:
        if simulator and error.status not in (200, 404, 405):
            raise HarnessError(f"could not clear fault rules on the simulator ({error.status}): {error.body}") from None


def prepare(target: Target, credentials: Credentials, remote: bool, state: RunState) -> Credentials:
    """The credentials to log in with, and the run state: on a simulator handed over in-process
    (or made for the run), a fresh tenant and NORMAL account made through the admin API; on a
    remote target, the credentials given."""
    if remote:
        if not (credentials.token or credentials.can_login):
            raise HarnessError(
                "a remote target needs --token or --server-key/--server-secret "
                "(env PISMO_TOKEN or PISMO_SERVER_KEY/PISMO_SERVER_SECRET), or --provision "
                "when it is a pismo-sandbox (what the run needs is made through its admin API)"
            )
        state.boleto = _codec_boleto()
        state.account_id = credentials.account_id
        return credentials
    admin = target.admin
    try:
        with _answering(target):
            tenant = admin.create_tenant()
    except AdminError as error:
        needs = (
            "; the target requires its admin token: give --admin-token (env PISMO_SANDBOX_ADMIN_TOKEN)"
            if error.status == 401
            else ""
        )
        raise HarnessError(
            f"could not create a tenant through the admin API ({error.status}): {error.body}{needs}"
        ) from None
    try:
        with _answering(target):
            account = admin.create_account(tenant.tenant_id, status="NORMAL")
    except AdminError as error:
        raise HarnessError(
            f"could not create an account through the admin API ({error.status}): {error.body}"
        ) from None
    state.tenant_id, state.account_id = tenant.tenant_id, account["account_id"]
    state.boleto = _simulator_boleto(admin)
    # Bank slips need a provider: the admin choice wins over whatever provider credentials the
    # banking-auth run leaves behind (CELCOIN returns external_authorization, so Pay's strictest
    # path is the one exercised). A simulator without bank slips answers 404/405: ignored.
    try:
        admin.set_bankslip_provider(tenant.tenant_id, "CELCOIN")
    except AdminError:
        pass
    return Credentials(
        server_key=tenant.server_key, server_secret=tenant.server_secret, account_id=account["account_id"]
    )


def _simulator_boleto(admin: AdminClient) -> Callable[[Decimal, str], dict]:
    """A valid slip from the simulator's admin API (POST /_sandbox/boletos), else the codec."""
    fallback = _codec_boleto()

    def make(amount: Decimal, kind: str = "bank") -> dict:
        try:
            made = admin.generate_boleto(kind, float(amount))
        except AdminError:
            return fallback(amount, kind)
        return dict(made) if isinstance(made, dict) else fallback(amount, kind)

    return make


def _codec_boleto() -> Callable[[Decimal, str], dict]:
    """A valid slip built with the FEBRABAN codec (check digits right; bank slips due in 30 days)."""
    from datetime import date, timedelta

    from pismo_sandbox.domains.bankslips import boleto

    def make(amount: Decimal, kind: str = "bank") -> dict:
        amount = Decimal(amount).quantize(Decimal("0.01"))
        slip = (
            boleto.generate_bank_slip(amount, due_date=date.today() + timedelta(days=30))
            if kind == "bank"
            else boleto.generate_dealership_slip(amount)
        )
        return {
            "kind": kind,
            "bar_code": slip.bar_code,
            "digitable_line": slip.digitable_line,
            "amount": float(slip.amount) if slip.amount is not None else None,
        }

    return make
