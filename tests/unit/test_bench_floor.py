"""The bench's floor app does the work it stands for (a token checked, the body checked, the key
sealed, the row upserted in a transaction, a journal row per request), or its figure would flatter
the stack; and the bench prints its figure next to the simulator's."""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing

import jwt
import pytest

from bench.floor import create_floor, prepare

SECRET = "floor-test-secret-" + "x" * 32
TENANT = "tenant-floor"
BODY = {"key": "provider-secret-key", "provider": "CELCOIN", "type": "BAAS"}


@pytest.fixture
def floor(tmp_path):
    db = str(tmp_path / "floor.db")
    prepare(db, TENANT)
    return create_floor(db, SECRET).test_client(), db


def _headers(tenant: str = TENANT, secret: str = SECRET) -> dict:
    token = jwt.encode({"tenant_id": tenant, "exp": int(time.time()) + 60}, secret, algorithm="HS256")
    return {"Authorization": f"Bearer {token}"}


def _rows(path: str, sql: str) -> list[tuple]:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute(sql).fetchall()


def test_the_floor_upserts_a_sealed_key_and_journals_every_request(floor):
    client, db = floor
    assert client.post("/banking-auth/v1/credentials", json=BODY, headers=_headers()).status_code == 201
    assert client.post("/banking-auth/v1/credentials", json=BODY, headers=_headers()).status_code == 201
    [(tenant, provider, type_, sealed, version)] = _rows(
        db, "SELECT tenant_id, provider, type, key_ciphertext, version FROM credentials"
    )
    assert (tenant, provider, type_, version) == (TENANT, "CELCOIN", "BAAS", 2)
    assert BODY["key"].encode() not in sealed and len(sealed) == 12 + len(BODY["key"]) + 16  # nonce, ciphertext, tag
    journal = _rows(db + ".journal", "SELECT method, path, status, tenant_id FROM journal ORDER BY seq")
    assert journal == [("POST", "/banking-auth/v1/credentials", 201, TENANT)] * 2


@pytest.mark.parametrize(
    "headers",
    [_headers(secret="another-secret-" + "y" * 32), _headers(tenant="nobody"), {}],
    ids=["wrong signature", "unknown tenant", "no token"],
)
def test_the_floor_refuses_a_token_it_cannot_trust_and_stores_nothing(floor, headers):
    client, db = floor
    assert client.post("/banking-auth/v1/credentials", json=BODY, headers=headers).status_code == 401
    assert _rows(db, "SELECT * FROM credentials") == []
    assert _rows(db + ".journal", "SELECT status FROM journal") == [(401,)]


@pytest.mark.parametrize(
    "body",
    [{**BODY, "provider": "ITAU"}, {"key": "k", "provider": "BTG"}, [BODY], None],
    ids=["provider outside the document's enum", "type missing", "not an object", "no body"],
)
def test_the_floor_checks_the_body_against_the_bundled_schema(floor, body):
    client, db = floor
    response = client.post("/banking-auth/v1/credentials", json=body, headers=_headers())
    assert response.status_code == 400 and response.json == {"code": "EBAA0005"}
    assert _rows(db, "SELECT * FROM credentials") == []


def test_the_bench_prints_the_floor_next_to_the_simulator_when_it_was_measured(capsys):
    from bench.run import print_table

    figures = {
        "rps": 1400.0,
        "p50_ms": 11.0,
        "p99_ms": 30.0,
        "cpu_us_per_request": 1250.0,
        "errors": 0,
        "steal_pct": 0.1,
        "baseline_rps": 4100.0,
        "ratio_to_baseline": 0.341,
        "baseline_cpu_us_per_request": 440.0,
        "inprocess_cpu_us_per_request": 590.0,
        "baseline_inprocess_cpu_us_per_request": 120.0,
        "inprocess_failures": 0,
    }
    meta = {"startup_s": 1.1, "worker_rss_mb": [84.0, 84.0], "spaced_gap_ms": None}
    print_table({"credentials": figures}, meta)
    assert "floor" not in capsys.readouterr().out
    print_table(
        {
            "credentials": dict(
                figures, floor_rps=1559.0, floor_cpu_us_per_request=1014.0, floor_errors=0, floor_ratio_to_baseline=0.38
            )
        },
        meta,
    )
    [floor_line] = [text for text in capsys.readouterr().out.splitlines() if text.startswith("floor")]
    assert "1559 req/s" in floor_line and "1014 us CPU/req" in floor_line and "ratio 0.38" in floor_line
