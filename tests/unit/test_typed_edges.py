"""Edges the type checker pointed at: a server key given without its secret leaves the tenant's
credentials alone, and an SNS signature check under a certificate that holds no RSA key says no
instead of failing."""

from __future__ import annotations

import base64
import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from pismo_sandbox.app import build_sandbox
from pismo_sandbox.config import Config
from pismo_sandbox.domains.deliveries.signing import verify
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


def _ec_certificate() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "not-rsa.example")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def test_a_signature_under_a_certificate_without_an_rsa_key_does_not_verify() -> None:
    assert verify(_ec_certificate(), "Message\nhello\n", base64.b64encode(b"\x00" * 256).decode()) is False
