"""Request schema of Create provider credential: validated JSON -> an UpsertCredential command
(built directly when the body has the plain shape, by the marshmallow schema otherwise)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
        return UpsertCredential(
            key=data["key"],
            provider=data["provider"],
            type=data["type"],
            client_id=(data.get("provider_data") or {}).get("client_id"),
        )


_SCHEMA = UpsertCredentialSchema()


def upsert_command(body: Any) -> UpsertCredential:
    """The command of a body the contract layer accepted. A body of the plain shape (the three
    strings, ``provider_data`` absent or an object whose ``client_id`` is absent, null or a
    string) is read directly; anything else goes to the schema, which decides and refuses as
    before. A property test holds the two to the same command."""
    if type(body) is dict:
        key, provider, kind = body.get("key"), body.get("provider"), body.get("type")
        extra = body.get("provider_data", _ABSENT)
        if type(key) is str and type(provider) is str and type(kind) is str:
            if extra is _ABSENT:
                return UpsertCredential(key=key, provider=provider, type=kind, client_id=None)
            if type(extra) is dict:
                client_id = extra.get("client_id")
                if client_id is None or type(client_id) is str:
                    return UpsertCredential(key=key, provider=provider, type=kind, client_id=client_id)
    return _SCHEMA.load(body)


_ABSENT = object()
