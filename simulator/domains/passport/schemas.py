"""Server login request -> a ServerLogin command; token -> the login response body."""

from __future__ import annotations

from dataclasses import dataclass

from marshmallow import EXCLUDE, Schema, fields, post_load

from pismo_sandbox.tokens import IssuedToken

# What every server token grants (the login answer lists them).
ROLES = ["account-server", "onboarding-server", "crm-server", "crm-operator"]


@dataclass(frozen=True)
class ServerLogin:
    server_key: str
    server_secret: str | None
    account_id: int | None

    def __repr__(self) -> str:
        return f"ServerLogin(server_key={self.server_key!r}, account_id={self.account_id!r})"


class ServerLoginSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    server_key = fields.String(required=True)
    server_secret = fields.String(load_default=None)
    secret_key = fields.String(load_default=None)  # older guides' name for server_secret
    # Not strict: JSON Schema's integer admits 5.0 (the contract already refused 5.5 and "5").
    account_id = fields.Integer(load_default=None)

    @post_load
    def make(self, data: dict, **_: object) -> ServerLogin:
        return ServerLogin(data["server_key"], data["server_secret"] or data["secret_key"], data["account_id"])


def login_body(login: ServerLogin, tenant: dict, issued: IssuedToken) -> dict:
    """The 200 body of Server login: the tenant's key, the token and what it grants."""
    body = {
        "server_key": tenant["server_key"],
        "tenant": tenant["tenant_id"],
        "program_ids": [],
        "roles": ROLES,
        "token": issued.token,
        "expires_in": issued.ttl_seconds,
    }
    if login.account_id is not None:
        body["account_id"] = login.account_id
    return body
