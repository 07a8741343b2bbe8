"""An operation's compiled validators are built when a request first needs them, not when the
contract loads: a process pays only for the operations it checks, and threads that check an
operation for the first time at once share one compile."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
import time

from flask import Flask, request

from pismo_sandbox.validation import CompiledOperation, SchemaRoot

DOCUMENT = {
    "openapi": "3.0.3",
    "components": {"schemas": {"Name": {"type": "string", "minLength": 1}}},
    "paths": {
        "/things": {
            "post": {
                "operationId": "createThing",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["name"],
                                "properties": {"name": {"$ref": "#/components/schemas/Name"}},
                            }
                        }
                    },
                },
                "responses": {
                    "201": {"content": {"application/json": {"schema": {"type": "object"}}}},
                    "204": {"description": "nothing to say"},
                },
            }
        }
    },
}


def test_only_the_operations_requests_went_through_are_compiled(tmp_path):
    program = textwrap.dedent(f"""
        import json
        from pismo_sandbox.app import create_app
        from pismo_sandbox.config import Config
        from pismo_sandbox.contract.operations import load_contract

        def compiled():
            return sorted(op.operation_id for op in load_contract().by_id.values() if op.compiled.ready)

        client = create_app(Config(db_path={str(tmp_path / "lazy.db")!r})).test_client()
        seen = {{"after start-up": compiled()}}
        health = client.get("/_sandbox/health").status_code
        seen["after a health check"] = compiled()
        tenant = client.post("/_sandbox/tenants", json={{}}).status_code
        seen["after a new tenant"] = compiled()
        print(json.dumps({{"seen": seen, "statuses": [health, tenant]}}))
    """)
    out = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True, timeout=120)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["statuses"] == [200, 201]
    assert result["seen"] == {
        "after start-up": [],
        "after a health check": ["sandbox-health"],
        "after a new tenant": ["sandbox-create-tenant", "sandbox-health"],
    }


def test_threads_checking_an_operation_first_at_once_share_one_compile(monkeypatch):
    compiled: list[dict] = []
    real_compile = SchemaRoot.compile

    def slow_compile(self, schema):
        compiled.append(schema)
        time.sleep(0.01)  # widens the window in which another thread could compile too
        return real_compile(self, schema)

    monkeypatch.setattr(SchemaRoot, "compile", slow_compile)
    operation = CompiledOperation(DOCUMENT, "/things", "post")
    app = Flask(__name__)
    start = threading.Barrier(8)
    answers: list[object] = []

    def check(name: str) -> None:
        with app.test_request_context("/things", method="POST", json={"name": name}):
            start.wait()
            answers.append(operation.check_request(request))

    threads = [threading.Thread(target=check, args=(f"n{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(answers, key=repr) == sorted([({}, {}, {}, {"name": f"n{i}"}) for i in range(8)], key=repr)
    assert len(compiled) == 2  # the body's schema and the 201 response's, once each


def test_a_lazily_compiled_operation_judges_as_the_components_say():
    operation = CompiledOperation(DOCUMENT, "/things", "post")
    app = Flask(__name__)
    with app.test_request_context("/things", method="POST", json={"name": ""}):  # Name has minLength 1
        assert operation.check_request(request) is None
    with app.test_request_context("/things", method="POST", json={"name": "x"}):
        assert operation.check_request(request) == ({}, {}, {}, {"name": "x"})
