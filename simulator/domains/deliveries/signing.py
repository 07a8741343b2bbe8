"""The sandbox's SNS signing key and certificate: an RSA key and a self-signed X.509
certificate made once per database with ``cryptography``; the key is kept encrypted (AES-GCM,
the credentials' box) in the settings table, the certificate in the clear (it is public)."""

from __future__ import annotations

import base64
import datetime
import threading
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from pismo_sandbox.crypto import SecretBox

if TYPE_CHECKING:
    from pismo_sandbox.domains.deliveries.repository import DeliveryRepository

KEY_SETTING, CERT_SETTING = "deliveries.sns.key", "deliveries.sns.certificate"
CONTEXT = "deliveries/sns-signing-key"


class SnsSigner:
    def __init__(self, private_key: rsa.RSAPrivateKey, certificate_pem: str):
        self.private_key = private_key
        self.certificate_pem = certificate_pem

    def sign(self, text: str) -> str:
        """SHA256withRSA (SignatureVersion 2), base64."""
        raw = self.private_key.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())
        return base64.b64encode(raw).decode()


def verify(certificate_pem: str | bytes, text: str, signature_b64: str) -> bool:
    """Whether ``signature_b64`` signs ``text`` under the certificate's key (SignatureVersion 2)."""
    from cryptography.exceptions import InvalidSignature

    pem = certificate_pem.encode() if isinstance(certificate_pem, str) else certificate_pem
    public_key = x509.load_pem_x509_certificate(pem).public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):  # SignatureVersion 2 is SHA256withRSA
        return False
    try:
        public_key.verify(base64.b64decode(signature_b64), text.encode(), padding.PKCS1v15(), hashes.SHA256())
        return True
    except InvalidSignature:
        return False


def self_signed_certificate(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    """A self-signed certificate (PEM) for ``key`` (the sandbox's RSA key; any other is a test's),
    valid for ten years."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.sandbox.pismo-sandbox.local")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


class SigningKeys:
    """Loads (or makes, once for every worker) the SNS signer."""

    def __init__(self, repo: DeliveryRepository, box: SecretBox):
        self.repo = repo  # DeliveryRepository
        self.box = box
        self._signer: SnsSigner | None = None
        self._lock = threading.Lock()

    def certificate_pem(self) -> str:
        return self.sns_signer().certificate_pem

    def sns_signer(self) -> SnsSigner:
        with self._lock:
            if self._signer is None:
                self._signer = self._load() or self._make()
            return self._signer

    def _load(self) -> SnsSigner | None:
        rows = self.repo.settings(KEY_SETTING, CERT_SETTING)
        if KEY_SETTING not in rows or CERT_SETTING not in rows:
            return None
        pem = self.box.open(base64.b64decode(rows[KEY_SETTING]), CONTEXT)
        key = serialization.load_pem_private_key(pem.encode(), password=None)
        assert isinstance(key, rsa.RSAPrivateKey), "the stored key is the RSA key _make made"
        return SnsSigner(key, rows[CERT_SETTING])

    def _make(self) -> SnsSigner:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        cert_pem = self_signed_certificate(key)
        key_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        sealed = base64.b64encode(self.box.seal(key_pem, CONTEXT)).decode()
        # Another worker may have made a pair meanwhile: the first one stored is kept.
        self.repo.settings_once({KEY_SETTING: sealed, CERT_SETTING: cert_pem})
        signer = self._load()
        assert signer is not None, "a key pair was stored just above"
        return signer
