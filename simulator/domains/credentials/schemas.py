"""Request schema of Create provider credential: validated JSON -> an UpsertCredential command."""

from __future__ import annotations

from dataclasses import dataclass

from marshmallow import EXCLUDE, Schema, fields, post_load


@dataclass(frozen=True)
class UpsertCredential:
    key: str
    provider: str
    type: str
    client_id: str | None

    def __repr__(self) -> str:  # never print the key
        return f"UpsertCredential(provider={self.provider!r}, type={self.type!r}, key=<redacted>)"


class ProviderDataSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    client_id = fields.String(load_default=None, allow_none=True)


class UpsertCredentialSchema(Schema):
    """Shapes were already checked against seed 000 by the contract layer; this builds the command."""

    class Meta:
        unknown = EXCLUDE

    key = fields.String(required=True)
    provider = fields.String(required=True)
    type = fields.String(required=True)
    provider_data = fields.Nested(ProviderDataSchema, load_default=dict)

    @post_load
    def make(self, data: dict, **_: object) -> UpsertCredential:
        return UpsertCredential(key=data["key"], provider=data["provider"], type=data["type"],
                                client_id=(data.get("provider_data") or {}).get("client_id"))
