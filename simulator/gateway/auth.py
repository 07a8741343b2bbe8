"""Authentication at the gateway: bearer JWT -> tenant and account, admin token for /_sandbox.

The token plays the role of Pismo's x-tenant / x-account-id headers. A client may still send
those headers; when they disagree with the token the operation's documented 403 is returned.
"""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING

from pismo_sandbox.contract import ADMIN, NONE, Operation
from pismo_sandbox.errors import SandboxError
from pismo_sandbox.core import SandboxCore
from pismo_sandbox.tokens import Principal

if TYPE_CHECKING:
    from flask import Request


def bearer_token(request: Request, op: Operation) -> str | None:
    """The token of ``Authorization: Bearer <token>`` (the scheme is required, as Pismo's
    gateway requires it: ERRATA S-16); on banking-auth, else the ``account_token`` header
    (ERRATA E-04), with or without the scheme. ``Authorization`` wins when both carry one."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if op.spec == "banking-auth":  # ERRATA E-04: seed 000 names the header account_token
        token = request.headers.get("account_token", "").strip()
        if token.lower().startswith("bearer "):
            token = token[7:].strip()
        return token or None
    return None


def missing_token_details(request: Request) -> str:
    """Why no token was found, in words that say how to send one."""
    header = request.headers.get("Authorization", "").strip()
    if header and " " not in header:
        return "the Authorization header needs the Bearer scheme: Authorization: Bearer <token>"
    return "missing bearer token in the Authorization header"


def authenticate(request: Request, op: Operation, sandbox: SandboxCore) -> Principal | None:
    if op.auth == NONE:
        return None
    if op.auth == ADMIN:
        _check_admin(request, op, sandbox.config.admin_token)
        return None
    unauthorized = op.errors.get("unauthorized", fallback=None)
    token = bearer_token(request, op)
    if not token:
        unauthorized.raise_(details=missing_token_details(request))
    if "," in token:  # no JWT holds a comma: the header came twice (ERRATA S-15), joined by the server
        unauthorized.raise_(
            details="the token was sent more than once (account_token and"
            " account-token, or Authorization twice, are one header)"
        )
    try:
        principal = sandbox.tokens.verify(token)
    except SandboxError as error:
        unauthorized.raise_(details=error.details)
    if not sandbox.tenancy.tenant_exists(principal.tenant_id):
        unauthorized.raise_(details="the token's tenant does not exist (was the sandbox reset?)")
    _check_forwarded_headers(request, op, principal)
    return principal


def _check_forwarded_headers(request: Request, op: Operation, principal: Principal) -> None:
    tenant = request.headers.get("x-tenant")
    if tenant is not None and tenant != principal.tenant_id:
        op.errors.get("tenant_mismatch", fallback="unauthorized").raise_(
            details="x-tenant header does not match the token's tenant"
        )
    account = request.headers.get("x-account-id")
    if account is not None and account != str(principal.account_id):
        op.errors.get("account_mismatch", fallback="unauthorized").raise_(
            details="x-account-id header does not match the token's account"
        )
    if op.requires_account and principal.account_id is None:
        op.errors.get("missing_account").raise_(
            details="this operation needs an account token (server login with account_id)"
        )


def _check_admin(request: Request, op: Operation, admin_token: str | None) -> None:
    if not admin_token or op.spec == "sandbox-sns":
        # sandbox-sns.yaml: the SNS endpoints a receiver calls with what a message gave it (the
        # SubscribeURL carries its own secret token); SNS asks for no other credential.
        return
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip().encode(), admin_token.encode()):
        op.errors.get("unauthorized").raise_(details="send Authorization: Bearer <admin token>")
