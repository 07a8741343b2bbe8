"""A scenario's starting state, made through the admin client: the reset (checked to have left
nothing behind), the clock, tenants, accounts with long-lived tokens, provider credentials, the
bank-slip provider, account statuses and boletos, and the scenario's fault rules; the result is
the drill context the client, the steps and the assertions refer to."""

from __future__ import annotations

import copy
import sys

from pismo_sandbox.client import AdminClient
from pismo_sandbox.drills.errors import DrillError, admin_step
from pismo_sandbox.drills.scenario import Scenario
from pismo_sandbox.drills.scenario_file import format_path

TOKEN_TTL = 31_536_000  # the longest the admin API issues: advancing the clock never expires it


def reset(admin: AdminClient) -> None:
    """POST /_sandbox/reset, and refuse to go on if another client left state behind at once."""
    with admin_step("resetting the sandbox"):
        admin.reset()
    with admin_step("checking the reset"):
        left = (admin.tenants(), admin.faults())
    if any(left):
        raise DrillError(
            f"POST /_sandbox/reset left state behind ({len(left[0])} tenant(s),"
            f" {len(left[1])} fault rule(s)): is another client using this sandbox?"
        )


def set_up(admin: AdminClient, scenario: Scenario) -> dict:
    """Make the scenario's setup; the drill context (names to ids, tokens and boletos)."""
    setup = scenario.setup
    clock = setup.get("clock")
    if clock:
        with admin_step("setup.clock"):
            admin.set_clock(now=clock["now"] or None, freeze=clock["freeze"])
    tenants, accounts = {}, {}
    for i, tenant in enumerate(setup["tenants"]):
        where = format_path(("setup", "tenants", i))
        with admin_step(where):
            created = admin.create_tenant(tenant["tenant_id"] or None)
        tenants[tenant["name"]] = {
            "name": tenant["name"],
            "tenant_id": created.tenant_id,
            "server_key": created.server_key,
            "server_secret": created.server_secret,
        }
        for j, account in enumerate(tenant["accounts"]):
            with admin_step(f"{where}.accounts[{j}]"):
                made = admin.create_account(created.tenant_id, account["account_id"] or None)
            with admin_step(f"{where}.accounts[{j}] (token)"):
                token = admin.issue_token(created.tenant_id, made["account_id"], ttl_seconds=TOKEN_TTL)
            accounts[account["name"]] = {
                "name": account["name"],
                "tenant_id": created.tenant_id,
                "tenant": tenant["name"],
                "account_id": made["account_id"],
                "token": token["token"],
                "status": account["status"],
            }
        for k, credential in enumerate(tenant["credentials"]):
            owner = accounts[credential["account"] or tenant["accounts"][0]["name"]]
            body = {key: credential[key] for key in ("key", "provider", "type")}
            if credential["provider_data"] is not None:
                body["provider_data"] = credential["provider_data"]
            with admin_step(f"{where}.credentials[{k}]"):  # a Pismo API call, as the account
                admin.request(
                    "POST",
                    "/banking-auth/v1/credentials",
                    json=body,
                    expect=(201,),
                    headers={"Authorization": f"Bearer {owner['token']}"},
                )
        if tenant["bankslip_provider"]:
            with admin_step(f"{where}.bankslip_provider"):
                admin.set_bankslip_provider(created.tenant_id, tenant["bankslip_provider"])
        for j, account in enumerate(tenant["accounts"]):  # statuses last: credentials need NORMAL
            if account["status"] != "NORMAL":
                with admin_step(f"{where}.accounts[{j}].status"):
                    admin.set_account_status(
                        created.tenant_id, accounts[account["name"]]["account_id"], account["status"]
                    )
    boletos = {}
    for i, boleto in enumerate(setup["boletos"]):
        # due_date is present only when the file gives it: an explicit null means "no due date"
        body = {k: v for k, v in boleto.items() if k != "name" and (v is not None or k == "due_date")}
        with admin_step(format_path(("setup", "boletos", i))):
            slip = admin.generate_boleto(**body)
        boletos[boleto["name"]] = {"name": boleto["name"], **slip}
    primary = next(iter(accounts.values()))
    owner = next(t for t in tenants.values() if t["tenant_id"] == primary["tenant_id"])
    return {
        "base_url": admin.base_url,
        "python": sys.executable,
        "scenario_dir": scenario.directory,
        "tenant_id": primary["tenant_id"],
        "account_id": primary["account_id"],
        "token": primary["token"],
        "server_key": owner["server_key"],
        "server_secret": owner["server_secret"],
        "tenants": tenants,
        "accounts": accounts,
        "boletos": boletos,
        "steps": {},
    }


def install_faults(admin: AdminClient, scenario: Scenario, context: dict) -> list[dict]:
    """The scenario's fault rules, their tenant and account references resolved; as installed."""
    installed = []
    for i, fault in enumerate(scenario.faults):
        rule = copy.deepcopy(fault["rule"])
        match = rule.setdefault("match", {})
        if fault["refs"].get("tenant"):
            match["tenant_id"] = context["tenants"][fault["refs"]["tenant"]]["tenant_id"]
        if fault["refs"].get("account"):
            account = context["accounts"][fault["refs"]["account"]]
            match["tenant_id"], match["account_id"] = account["tenant_id"], account["account_id"]
        with admin_step(format_path(("faults", i))):
            installed.append(dict(admin.add_fault(rule)))
    return installed
