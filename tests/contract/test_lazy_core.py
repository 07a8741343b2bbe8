"""openapi-core is the fallback behind the compiled validators, and importing it is about half of
start-up: the app is built and answers valid requests without it, and loads it the first time a
request needs it, with the same documented answer as before."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap


def test_openapi_core_is_imported_only_when_a_request_first_needs_it(tmp_path):
    program = textwrap.dedent(f"""
        import json, sys
        from pismo_sandbox.app import create_app
        from pismo_sandbox.config import Config

        seen = {{}}
        client = create_app(Config(db_path={str(tmp_path / "lazy.db")!r})).test_client()
        seen["after start-up"] = "openapi_core" in sys.modules
        tenant = client.post("/_sandbox/tenants", json={{}}).json
        account = client.post(f"/_sandbox/tenants/{{tenant['tenant_id']}}/accounts", json={{}}).json
        token = client.post("/_sandbox/tokens", json={{"tenant_id": tenant["tenant_id"],
                                                      "account_id": account["account_id"]}}).json["token"]
        headers = {{"Authorization": f"Bearer {{token}}"}}
        ok = client.post("/banking-auth/v1/credentials", headers=headers,
                         json={{"key": "k", "provider": "CELCOIN", "type": "BAAS"}})
        seen["after valid requests"] = "openapi_core" in sys.modules
        bad = client.post("/banking-auth/v1/credentials", headers=headers, json={{"provider": "CELCOIN"}})
        seen["after an invalid request"] = "openapi_core" in sys.modules
        print(json.dumps({{"seen": seen, "ok": ok.status_code, "bad": [bad.status_code, bad.json]}}))
    """)
    out = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["seen"] == {"after start-up": False, "after valid requests": False, "after an invalid request": True}
    assert result["ok"] == 201
    status, body = result["bad"]
    assert status == 400 and body["code"] == "EBAA0005" and "key: is required" in body["details"]
