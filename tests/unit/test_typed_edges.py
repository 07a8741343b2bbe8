"""Edges the type checker pointed at: a server key given without its secret leaves the tenant's
credentials alone, and an SNS signature check under a certificate that holds no RSA key says no
instead of failing."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from pismo_sandbox.app import build_sandbox
from pismo_sandbox.config import Config
from pismo_sandbox.domains.deliveries.signing import self_signed_certificate, verify
from pismo_sandbox.errors import SandboxError


@pytest.fixture
def sandbox(tmp_path):
    built = build_sandbox(Config(db_path=str(tmp_path / "sandbox.db")))
    yield built
    built.close()


def test_a_server_key_without_its_secret_leaves_the_tenants_credentials_alone(sandbox) -> None:
    sandbox.tenancy.ensure_tenant("tenant-a", "sk_a", "ss_a")

    assert sandbox.tenancy.ensure_tenant("tenant-a", "sk_other", None) is False

    assert sandbox.tenancy.authenticate_server("sk_a", "ss_a")["tenant_id"] == "tenant-a"
    with pytest.raises(SandboxError):
        sandbox.tenancy.authenticate_server("sk_a", "")


def test_a_signature_under_a_certificate_without_an_rsa_key_does_not_verify() -> None:
    assert (
        verify(
            self_signed_certificate(ec.generate_private_key(ec.SECP256R1())),
            "Message\nhello\n",
            base64.b64encode(b"\x00" * 256).decode(),
        )
        is False
    )
