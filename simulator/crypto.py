"""Key material and encryption at rest: AES-GCM for provider keys, HKDF-derived subkeys.

One 32-byte master secret (configuration, or a 0600 key file beside the database) yields the
token-signing key and the encryption key, so tokens and ciphertexts survive a restart.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

NONCE_BYTES = 12


def load_master_key(master_key: str | None, db_path: str) -> bytes:
    """The configured key, else the key file beside the database (created once), else random."""
    if master_key:
        raw = base64.b64decode(master_key + "=" * (-len(master_key) % 4), altchars=b"-_")
        if len(raw) < 32:
            raise ValueError("PISMO_SANDBOX_MASTER_KEY must decode to at least 32 bytes")
        return raw
    if db_path == ":memory:":
        return os.urandom(32)
    path = db_path + ".key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        with open(path, "rb") as handle:
            data = handle.read()
        if len(data) == 32:
            return data
        raise ValueError(f"{path}: expected 32 bytes of key material") from None
    with os.fdopen(fd, "wb") as handle:
        key = os.urandom(32)
        handle.write(key)
    return key


def derive(master: bytes, purpose: str, length: int = 32) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None,
                info=f"pismo-sandbox/{purpose}".encode()).derive(master)


class SecretBox:
    """AES-GCM encryption bound to a context (tenant, provider, type) through associated data."""

    def __init__(self, key: bytes):
        self._aead = AESGCM(key)

    def seal(self, plaintext: str, context: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext.encode(), context.encode())

    def open(self, blob: bytes, context: str) -> str:
        """Decrypt; raises cryptography's InvalidTag if the blob or its context was changed."""
        return self._aead.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], context.encode()).decode()


class Fingerprinter:
    """Keyed fingerprints (HMAC-SHA256): compare secrets and request bodies without storing them."""

    def __init__(self, key: bytes):
        self._key = key

    def __call__(self, data: bytes | str) -> str:
        if isinstance(data, str):
            data = data.encode()
        return hmac.new(self._key, data, hashlib.sha256).hexdigest()

    def matches(self, data: bytes | str, fingerprint: str) -> bool:
        return hmac.compare_digest(self(data), fingerprint)
