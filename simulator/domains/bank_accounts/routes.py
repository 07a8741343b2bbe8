"""Handlers of the bank-account operations: register a Brazilian bank account (seed 002),
get and delete a bank account (sandbox-authored spec intl-bankaccounts-read.yaml)."""

from __future__ import annotations

from pismo_sandbox.domains.bank_accounts.schemas import BankAccountWithStatusSchema, created_body, register_command
from pismo_sandbox.handlers import Reply, created, no_content, ok, operation
from pismo_sandbox.request_context import RequestContext

_found = BankAccountWithStatusSchema()


@operation("post-intl-bank-accounts-v2-accounts-account-id-bank-accounts-brazil")
def register_brazil(ctx: RequestContext) -> Reply:
    row = ctx.sandbox.bank_accounts.register_brazil(
        ctx.caller, ctx.path["accountId"], register_command(ctx.body), cid=ctx.cid
    )
    return created(created_body(row))


@operation("get-intl-bank-accounts-v2-bank-accounts-account-id-bank-accounts-scheme-name")
def get_bank_account(ctx: RequestContext) -> Reply:
    row = ctx.sandbox.bank_accounts.get(ctx.caller, ctx.path["accountId"], ctx.path["schemeName"])
    return ok(_found.dump(row))


@operation("delete-intl-bank-accounts-v2-accounts-account-id-bank-accounts-scheme-name")
def delete_bank_account(ctx: RequestContext) -> Reply:
    ctx.sandbox.bank_accounts.delete(ctx.caller, ctx.path["accountId"], ctx.path["schemeName"], cid=ctx.cid)
    return no_content()
