"""HTTP views of the bank-account operations: register a Brazilian bank account (seed 002),
get and delete a bank account (sandbox-authored spec intl-bankaccounts-read.yaml)."""

from __future__ import annotations

from flask import Blueprint

from pismo_sandbox.domains.bank_accounts.schemas import (BankAccountSchema, BankAccountWithStatusSchema,
                                                     RegisterBrazilAccountSchema)
from pismo_sandbox.responses import bodiless
from pismo_sandbox.request_context import current
from pismo_sandbox.services import services

blueprint = Blueprint("bank_accounts", __name__, url_prefix="/intl-bankaccounts")
_register = RegisterBrazilAccountSchema()
_created = BankAccountSchema()
_found = BankAccountWithStatusSchema()


@blueprint.post("/v2/accounts/<accountId>/bank-accounts/brazil")
def register_brazil(accountId: str):
    command = _register.load(current().checked.body)
    row = services().bank_accounts.register_brazil(current().principal, current().checked.path["accountId"], command,
                                                   cid=current().cid)
    return _created.dump(row), 201


@blueprint.get("/v2/accounts/<accountId>/bank-accounts/<schemeName>")
def get_bank_account(accountId: str, schemeName: str):
    row = services().bank_accounts.get(current().principal, current().checked.path["accountId"],
                                       current().checked.path["schemeName"])
    return _found.dump(row)


@blueprint.delete("/v2/accounts/<accountId>/bank-accounts/<schemeName>")
def delete_bank_account(accountId: str, schemeName: str):
    services().bank_accounts.delete(current().principal, current().checked.path["accountId"],
                                    current().checked.path["schemeName"], cid=current().cid)
    return bodiless(204)
