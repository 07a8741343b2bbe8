"""Server login request -> a ServerLogin command; token -> the login response body."""

from __future__ import annotations

from dataclasses import dataclass

from marshmallow import EXCLUDE, Schema, fields, post_load


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
    def make(self, data: dict, **_) -> ServerLogin:
        return ServerLogin(data["server_key"], data["server_secret"] or data["secret_key"],
                           data["account_id"])
