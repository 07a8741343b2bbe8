"""State files (``pismo-sandbox serve --state FILE``): the tenants, accounts, server keys,
provider credentials, bank accounts, bank-slip providers and event subscriptions a team's
environment boots with.

The format is the drills' ``setup.tenants`` (scenarios/README.md) with fixed ids, plus server
keys, bank accounts and a ``subscriptions`` list (as POST /_sandbox/subscriptions takes them);
docs/python-api.md describes it. Applying a file is idempotent: what
already matches is left alone, so it can run on every start against a database that has been
used since (it never deletes anything the file does not name).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from marshmallow import ValidationError, fields, validate, validates_schema

from pismo_sandbox.drills.scenario import _flatten
from pismo_sandbox.drills.scenario_file import Problem, ScenarioError, format_path, read_yaml
from pismo_sandbox.drills.scenario_schema import AccountSchema, CredentialSchema, Strict, TenantSchema

if TYPE_CHECKING:
    from pismo_sandbox.core import SandboxCore

NAME = "state file"


class StateFileError(ScenarioError):
    """A state file that cannot be applied; str() lists every problem as FILE:LINE:COLUMN: field: problem."""


class BankAccountSchema(Strict):
    bank = fields.String(required=True, validate=validate.Regexp(r"^[0-9]{8}$"))
    branch = fields.String(required=True, validate=validate.Regexp(r"^[0-9]{1,4}$"))
    account_number = fields.String(required=True, validate=validate.Regexp(r"^[1-9][0-9]{0,12}$"))
    account_type = fields.String(load_default="CACC", validate=validate.OneOf(("CACC", "SLRY", "SVGS", "TRAN")))
    metadata = fields.Dict(load_default=dict)


class StateAccountSchema(AccountSchema):
    account_id = fields.Integer(required=True, strict=True, validate=validate.Range(1, 2**53 - 1))
    bank_account = fields.Nested(BankAccountSchema, load_default=None)


class StateTenantSchema(TenantSchema):
    tenant_id = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"))
    server_key = fields.String(load_default=None, validate=validate.Length(min=1, max=200))
    server_secret = fields.String(load_default=None, validate=validate.Length(min=1, max=200))
    accounts = fields.List(fields.Nested(StateAccountSchema), load_default=list)
    credentials = fields.List(fields.Nested(CredentialSchema), load_default=list)

    @validates_schema
    def keys_in_pairs(self, data: dict, **_: object) -> None:
        if (data.get("server_key") is None) != (data.get("server_secret") is None):
            raise ValidationError("give server_key and server_secret together (or neither)", "server_key")


class SubscriptionFilterSchema(Strict):
    domain = fields.String(load_default=None, validate=validate.Length(min=1, max=200))
    event_type = fields.String(load_default=None, validate=validate.Length(min=1, max=200))
    tenant_id = fields.String(load_default=None, validate=validate.Length(min=1, max=200))


class StateSubscriptionSchema(Strict):
    url = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    format = fields.String(load_default="pismo", validate=validate.OneOf(("pismo", "sns", "pubsub")))
    filter = fields.Nested(SubscriptionFilterSchema, load_default=dict)
    secret = fields.String(load_default=None, validate=validate.Length(min=8, max=200))


class StateSchema(Strict):
    tenants = fields.List(fields.Nested(StateTenantSchema), load_default=list)
    subscriptions = fields.List(fields.Nested(StateSubscriptionSchema), load_default=list)


@dataclass
class Applied:
    """What applying a state file changed (counts of created or updated items)."""

    tenants: int = 0
    accounts: int = 0
    credentials: int = 0
    bank_accounts: int = 0
    providers: int = 0
    subscriptions: int = 0
    unchanged: int = 0
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        changed = [
            f"{n} {what}"
            for what, n in (
                ("tenant(s)", self.tenants),
                ("account(s)", self.accounts),
                ("credential(s)", self.credentials),
                ("bank account(s)", self.bank_accounts),
                ("bank-slip provider(s)", self.providers),
                ("subscription(s)", self.subscriptions),
            )
            if n
        ]
        return (", ".join(changed) + " created or updated") if changed else "nothing to change"


def read_state(path: str, text: str | None = None) -> dict:
    """The validated state of ``path``; StateFileError listing every mistake with its position."""
    try:
        data, marks = read_yaml(path, text)
    except ScenarioError as error:  # unreadable, or not YAML
        raise StateFileError(path, error.problems) from None
    if data is None:
        data = {"tenants": []}
    problems: list[tuple[tuple, str]] = []
    loaded = None
    if not isinstance(data, dict):
        problems.append(((), "a state file is a mapping with a list of tenants (and of subscriptions)"))
    else:
        try:
            loaded = StateSchema().load(data)
        except ValidationError as error:
            problems += _flatten(error.messages)
    if loaded is not None:
        problems += _semantic_problems(loaded)
    if problems:
        raise StateFileError(
            path,
            [
                Problem(path, *marks.find(where), format_path(where), message)
                for where, message in sorted(problems, key=lambda p: marks.find(p[0]))
            ],
        )
    assert loaded is not None  # a file that does not load is a problem, raised above
    return loaded


def _semantic_problems(state: dict) -> list[tuple[tuple, str]]:
    problems: list[tuple[tuple, str]] = []
    seen_tenants: dict[str, int] = {}
    seen_accounts: dict[int, tuple] = {}
    for i, tenant in enumerate(state["tenants"]):
        if tenant["tenant_id"] in seen_tenants:
            problems.append(
                (
                    ("tenants", i, "tenant_id"),
                    f"tenant {tenant['tenant_id']} is already defined (tenants[{seen_tenants[tenant['tenant_id']]}])",
                )
            )
        seen_tenants.setdefault(tenant["tenant_id"], i)
        for j, account in enumerate(tenant["accounts"]):
            where = ("tenants", i, "accounts", j, "account_id")
            if account["account_id"] in seen_accounts:
                problems.append(
                    (
                        where,
                        f"account {account['account_id']} is already defined"
                        f" ({format_path(seen_accounts[account['account_id']][:-1])})",
                    )
                )
            seen_accounts.setdefault(account["account_id"], where)
        names = {a["name"] for a in tenant["accounts"] if a["name"]}
        for k, credential in enumerate(tenant["credentials"]):
            if not tenant["accounts"]:
                problems.append(
                    (("tenants", i, "credentials", k), "registering a credential needs an account of the tenant")
                )
            elif credential["account"] is not None and credential["account"] not in names:
                problems.append(
                    (
                        ("tenants", i, "credentials", k, "account"),
                        f"no account named {credential['account']!r} in this tenant",
                    )
                )
    return problems


def apply_state(services: SandboxCore, state: dict, path: str = NAME, public_base: str = "http://127.0.0.1") -> Applied:
    """Make the sandbox hold ``state`` (services: pismo_sandbox.core.SandboxCore); public_base is
    where receivers reach the sandbox (an SNS SubscribeURL)."""
    from pismo_sandbox.domains.bank_accounts.schemas import RegisterBrazilAccount
    from pismo_sandbox.domains.bank_accounts.service import BRAZIL, checked_scheme
    from pismo_sandbox.domains.credentials.schemas import UpsertCredential
    from pismo_sandbox.errors import SandboxError
    from pismo_sandbox.tokens import Principal

    _check_receivers(services, state["subscriptions"], path)
    applied = Applied()
    for i, tenant in enumerate(state["tenants"]):
        tenant_id = tenant["tenant_id"]
        where = f"tenants[{i}]"
        try:
            if services.tenancy.ensure_tenant(tenant_id, tenant["server_key"], tenant["server_secret"]):
                applied.tenants += 1
            for _j, account in enumerate(tenant["accounts"]):
                account_id = account["account_id"]
                if services.tenancy.find_account(tenant_id, account_id) is None:
                    services.tenancy.create_account(tenant_id, account_id)
                    applied.accounts += 1
                elif services.tenancy.get_account(tenant_id, account_id)["status"] != "NORMAL":
                    # credentials and bank accounts need NORMAL; the file's status is set last
                    services.tenancy.set_account_status(tenant_id, account_id, "NORMAL")
            for _k, credential in enumerate(tenant["credentials"]):
                owner = next(
                    (a for a in tenant["accounts"] if a["name"] == credential["account"]), tenant["accounts"][0]
                )
                command = UpsertCredential(
                    key=credential["key"],
                    provider=credential["provider"],
                    type=credential["type"],
                    client_id=(credential["provider_data"] or {}).get("client_id"),
                )
                if services.credentials.holds(tenant_id, command):
                    applied.unchanged += 1
                else:
                    services.tenancy.get_account(tenant_id, owner["account_id"])
                    services.credentials.upsert(tenant_id, command)
                    applied.credentials += 1
            for account in tenant["accounts"]:
                wanted = account["bank_account"]
                if wanted is None:
                    continue
                caller = Principal(tenant_id, account["account_id"], "state-file")
                registration = RegisterBrazilAccount(
                    wanted["bank"],
                    wanted["branch"],
                    wanted["account_number"],
                    wanted["account_type"],
                    wanted["metadata"],
                )
                scheme = checked_scheme(registration, strict_ispb=services.bank_accounts.strict_ispb).as_dict()
                try:
                    current = services.bank_accounts.get(caller, str(account["account_id"]), BRAZIL)
                except SandboxError:
                    current = None
                if current is not None and current["scheme"] == scheme and current["metadata"] == wanted["metadata"]:
                    applied.unchanged += 1
                    continue
                if current is not None:
                    services.bank_accounts.delete(caller, str(account["account_id"]), BRAZIL, cid=None)
                services.bank_accounts.register_brazil(caller, str(account["account_id"]), registration, cid=None)
                applied.bank_accounts += 1
            if tenant["bankslip_provider"]:
                setting = services.bankslips.provider_setting(tenant_id)
                if setting.get("source") == "admin" and setting["provider"] == tenant["bankslip_provider"]:
                    applied.unchanged += 1
                else:
                    services.bankslips.set_provider(tenant_id, tenant["bankslip_provider"])
                    applied.providers += 1
            for account in tenant["accounts"]:
                if account["status"] != "NORMAL":
                    services.tenancy.set_account_status(tenant_id, account["account_id"], account["status"])
        except SandboxError as error:
            raise StateFileError(
                path, [Problem(path, None, None, where, f"{error.code}: {error.details or error.message}")]
            ) from None
    _apply_subscriptions(services, state["subscriptions"], path, public_base, applied)
    return applied


def _subscription_key(url: str, fmt: str, filter_: dict) -> tuple:
    return url, fmt, tuple(sorted((k, v) for k, v in (filter_ or {}).items() if v is not None))


def _check_receivers(services: SandboxCore, wanted: list[dict], path: str) -> None:
    """Refuse, before anything is written, a receiver the sandbox would not push to."""
    from pismo_sandbox.domains.deliveries.service import url_problem

    problems = [
        Problem(path, None, None, f"subscriptions[{i}].url", problem)
        for i, subscription in enumerate(wanted)
        for problem in [url_problem(subscription["url"], services.deliveries.allowed_hosts)]
        if problem
    ]
    if problems:
        raise StateFileError(path, problems)


def _apply_subscriptions(
    services: SandboxCore, wanted: list[dict], path: str, public_base: str, applied: Applied
) -> None:
    """Subscribe each receiver the sandbox does not push to yet: one with the same url, format and
    filter is left alone (its secret is the one it was made with), as ``serve --subscribe`` does."""
    from pismo_sandbox.errors import SandboxError

    existing = {_subscription_key(s["url"], s["format"], s["filter"]) for s in services.deliveries.list()}
    for i, subscription in enumerate(wanted):
        key = _subscription_key(subscription["url"], subscription["format"], subscription["filter"])
        if key in existing:
            applied.unchanged += 1
            continue
        body = {
            "url": subscription["url"],
            "format": subscription["format"],
            "filter": {k: v for k, v in subscription["filter"].items() if v is not None},
        }
        if subscription["secret"]:
            body["secret"] = subscription["secret"]
        try:
            services.deliveries.subscribe(body, public_base)
        except SandboxError as error:
            raise StateFileError(
                path,
                [Problem(path, None, None, f"subscriptions[{i}]", f"{error.code}: {error.details or error.message}")],
            ) from None
        existing.add(key)
        applied.subscriptions += 1
