"""Each served worker loads openapi-core (the fallback behind the compiled validators) in the
background once it serves, unless PISMO_SANDBOX_WARM_UP is false; either way a rejected request
gets its documented answer. (The rest of the suite serves with it off: tests/conftest.py.)"""

from __future__ import annotations

import time

import pytest
import requests

pytestmark = pytest.mark.slow

WARMED = "openapi-core loaded and validators compiled"


def _reject_one(server) -> requests.Response:
    return requests.post(
        f"{server.url}/banking-auth/v1/credentials",
        headers=server.new_account().headers,
        json={"provider": "CELCOIN"},
        timeout=30,
    )


def _wait_for_lines(server, text: str, count: int) -> str:
    """The log so far once it holds ``count`` lines with ``text`` (or the log at the deadline)."""
    deadline = time.monotonic() + 60
    while True:
        log = server.output()
        if log.count(text) >= count or time.monotonic() > deadline:
            return log
        time.sleep(0.1)


def test_by_default_every_worker_loads_openapi_core_in_the_background(serve):
    server = serve(workers=2, env={"PISMO_SANDBOX_WARM_UP": "true", "PISMO_SANDBOX_LOG_LEVEL": "DEBUG"})
    # no request needs it: the workers load it on their own
    log = _wait_for_lines(server, WARMED, 2)
    assert log.count(WARMED) == 2, log
    refused = _reject_one(server)
    assert refused.status_code == 400 and refused.json()["code"] == "EBAA0005"


def test_with_warm_up_off_the_first_rejected_request_loads_it_and_gets_its_answer(serve):
    server = serve(workers=1, env={"PISMO_SANDBOX_WARM_UP": "false", "PISMO_SANDBOX_LOG_LEVEL": "DEBUG"})
    refused = _reject_one(server)
    assert refused.status_code == 400 and refused.json()["code"] == "EBAA0005"
    assert "key: is required" in refused.json()["details"]
    log = server.stop()
    assert "pismo_sandbox.access: POST /banking-auth/v1/credentials 400" in log
    assert WARMED not in log
