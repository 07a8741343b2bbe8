"""A credential's proxy value follows from its version: a database written when the value was
stored beside the credential keeps every value it showed, and its credentials go on from there."""

from __future__ import annotations

from pismo_sandbox.app import build_sandbox
from pismo_sandbox.config import Config
from pismo_sandbox.domains.credentials.providers import proxy_value
from pismo_sandbox.domains.credentials.schemas import UpsertCredential
from pismo_sandbox.store import MIGRATIONS, Store


def test_credentials_stored_with_their_proxy_value_keep_it_after_the_upgrade(tmp_path):
    path = str(tmp_path / "old.db")
    names = [name for name, _sql in MIGRATIONS]
    before = Store(path, migrations=MIGRATIONS[: names.index("0015_credential_proxy_value_derived")])
    before.migrate()
    with before.transaction() as db:
        db.execute(
            "INSERT INTO tenants (tenant_id, server_key, server_secret_hash, created_at)"
            " VALUES ('TN-1', 'sk_1', 'h', '2025-01-01T00:00:00Z')"
        )
        for provider, version in [("CELCOIN", 3), ("BTG", 1)]:
            db.execute(
                "INSERT INTO credentials (tenant_id, provider, type, client_id, key_ciphertext, proxy_value,"
                " token_expires_at, version, created_at, updated_at) VALUES (?, ?, 'PIX', ?, x'00', ?,"
                " '2025-01-01T01:00:00Z', ?, '2025-01-01T00:00:00Z', '2025-01-01T00:00:00Z')",
                ["TN-1", provider, f"client-{provider}", proxy_value("TN-1", provider, "PIX", version), version],
            )
    shown_before = list(
        before.db.query("SELECT provider, proxy_value, version, client_id FROM credentials ORDER BY provider")
    )
    before.close()

    upgraded = build_sandbox(Config(db_path=path))
    listed = upgraded.credentials.list_public("TN-1")
    assert [(c["provider"], c["proxy_value"], c["version"], c["client_id"]) for c in listed] == [
        (row["provider"], row["proxy_value"], row["version"], row["client_id"]) for row in shown_before
    ]
    assert "proxy_value" not in upgraded.store.db["credentials"].columns_dict
    assert list(listed[0]) == [
        "provider",
        "type",
        "client_id",
        "proxy_value",
        "version",
        "token_expires_at",
        "created_at",
        "updated_at",
    ]


def test_each_new_version_shows_its_own_proxy_value(tmp_path):
    sandbox = build_sandbox(Config(db_path=str(tmp_path / "sandbox.db")))
    tenant = sandbox.tenancy.create_tenant().tenant_id
    seen = []
    for n in range(1, 4):
        command = UpsertCredential(key=f"key-{n}", provider="CELCOIN", type="PIX", client_id=f"c-{n}")
        sandbox.credentials.upsert(tenant, command)
        [listed] = sandbox.credentials.list_public(tenant)
        assert listed["version"] == n
        seen.append(listed["proxy_value"])
    assert seen == [proxy_value(tenant, "CELCOIN", "PIX", n) for n in range(1, 4)]
    assert len(set(seen)) == 3
