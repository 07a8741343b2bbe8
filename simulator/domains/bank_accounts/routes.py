"""HTTP views of the bank-account operations: register a Brazilian bank account (seed 002),
get and delete a bank account (sandbox-authored spec intl-bankaccounts-read.yaml)."""

from __future__ import annotations

from flask import Blueprint, g

from pismo_sandbox.domains.bank_accounts.schemas import (BankAccountSchema, BankAccountWithStatusSchema,
                                                     RegisterBrazilAccountSchema)
from pismo_sandbox.responses import bodiless
from pismo_sandbox.services import services

blueprint = Blueprint("bank_accounts", __name__, url_prefix="/intl-bankaccounts")
_register = RegisterBrazilAccountSchema()
_created = BankAccountSchema()
_found = BankAccountWithStatusSchema()


@blueprint.post("/v2/accounts/<accountId>/bank-accounts/brazil")
def register_brazil(accountId: str):
    command = _register.load(g.checked.body)
    row = services().bank_accounts.register_brazil(g.principal, g.checked.path["accountId"], command,
                                                   cid=g.cid)
    return _created.dump(row), 201


@blueprint.get("/v2/accounts/<accountId>/bank-accounts/<schemeName>")
def get_bank_account(accountId: str, schemeName: str):
    row = services().bank_accounts.get(g.principal, g.checked.path["accountId"],
                                       g.checked.path["schemeName"])
    return _found.dump(row)


@blueprint.delete("/v2/accounts/<accountId>/bank-accounts/<schemeName>")
def delete_bank_account(accountId: str, schemeName: str):
    services().bank_accounts.delete(g.principal, g.checked.path["accountId"],
                                    g.checked.path["schemeName"], cid=g.cid)
    return bodiless(204)
