"""PISMO_SANDBOX_LOG_FORMAT=json, served: the access log and gunicorn's own records are one JSON
object per line, with the request's fields each on their own."""

from __future__ import annotations

import json

import pytest
import requests

pytestmark = pytest.mark.slow


def test_a_served_sandbox_logs_one_json_object_per_line(serve, tmp_path):
    server = serve(workers=1, env={"PISMO_SANDBOX_LOG_FORMAT": "json"})
    created = requests.post(f"{server.url}/_sandbox/tenants", json={}, timeout=10)
    refused = requests.post(f"{server.url}/banking-auth/v1/credentials", json={}, timeout=10)
    log = server.stop()
    records = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    plain = [line for line in log.splitlines() if line.strip() and not line.startswith("{")]
    # Only the command's own start-up lines and the served URL (stdout) are plain text; every
    # log record is JSON.
    assert all(line.startswith("pismo-sandbox") or line == server.url for line in plain), plain
    access = [r for r in records if r["logger"] == "pismo_sandbox.access" and r["path"] != "/_sandbox/health"]
    assert [(r["method"], r["path"], r["status"]) for r in access] == [
        ("POST", "/_sandbox/tenants", created.status_code),
        ("POST", "/banking-auth/v1/credentials", refused.status_code),
    ]
    assert access[0]["operation_id"] == "sandbox-create-tenant" and access[0]["verdict"] == "ok"
    assert access[0]["cid"] == created.headers["x-cid"] and access[0]["time"].endswith("Z")
    assert any(r["logger"] == "gunicorn.error" and "Listening at" in r["message"] for r in records)
    assert all({"time", "level", "logger", "message", "pid"} <= set(r) for r in records)


def test_the_default_log_format_is_text(serve):
    server = serve(workers=1)
    requests.get(f"{server.url}/_sandbox/health", timeout=10)
    log = server.stop()
    assert "pismo_sandbox.access: GET /_sandbox/health 200" in log
    assert not any(line.startswith("{") for line in log.splitlines())
