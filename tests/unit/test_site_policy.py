"""Which hosts a sandbox answers when it is bound beyond loopback, and the start-up warning for
an open admin API on such an address."""

from __future__ import annotations

import pytest

from pismo_sandbox import server
from pismo_sandbox.config import Config
from pismo_sandbox.gateway import origin


class _Socket:
    def __init__(self, address):
        self.address = address

    def getsockname(self):
        return self.address


@pytest.mark.parametrize(
    "local, host, allowed",
    [
        (("192.168.1.5", 8080), "192.168.1.5:8080", True),  # bound to 0.0.0.0, reached on the LAN address
        (("192.168.1.5", 8080), "192.168.1.6:8080", False),
        (("192.168.1.5", 8080), "rebind.evil.example", False),
        (("fe80::1", 8080, 0, 0), "[fe80::1]:8080", True),
        (None, "192.168.1.5", False),  # no socket known (in-process client)
    ],
)
def test_the_address_a_connection_arrived_on_is_served(local, host, allowed):
    environ = {"gunicorn.socket": _Socket(local)} if local else {}
    assert origin.SitePolicy().host_allowed(host, environ) is allowed


def test_the_name_the_server_is_bound_to_is_served(tmp_path):
    config = origin.with_bound_host(Config(db_path=str(tmp_path / "s.db"), allowed_hosts="a.test"), "box.lan")
    policy = origin.SitePolicy.from_config(config)
    assert policy.host_allowed("box.lan:8080", {}) and policy.host_allowed("a.test", {})
    assert not policy.host_allowed("other.lan", {})
    for wildcard in ("0.0.0.0", "::", "127.0.0.1"):
        assert origin.with_bound_host(config, wildcard) is config


@pytest.mark.parametrize(
    "host, token, warned",
    [
        ("0.0.0.0", None, True),
        ("192.168.1.5", None, True),
        ("::", None, True),
        ("0.0.0.0", "s3cret", False),
        ("127.0.0.1", None, False),
        ("localhost", None, False),
        ("::1", None, False),
    ],
)
def test_serving_beyond_loopback_with_the_admin_api_open_warns_at_start_up(
    tmp_path, monkeypatch, capsys, host, token, warned
):
    monkeypatch.setattr(server.SandboxServer, "run", lambda self: None)  # everything but the serving
    server.serve(Config(db_path=str(tmp_path / "s.db"), admin_token=token), host, 0, workers=1, threads=1)
    err = capsys.readouterr().err
    assert ("WARNING" in err and "PISMO_SANDBOX_ADMIN_TOKEN" in err and host in err) is warned
    assert "s3cret" not in err
