"""Key material and encryption at rest: AES-GCM for provider keys, HKDF-derived subkeys.

One 32-byte master secret (configuration, or a 0600 key file beside the database) yields the
token-signing key and the encryption key, so tokens and ciphertexts survive a restart.
"""

from __future__ import annotations

import base64
import hmac
import os
import secrets

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

NONCE_BYTES = 12
KEY_BYTES = 32


class KeyFileError(ValueError):
    """The key file beside the database cannot be used; the message says what to do."""


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
    if not os.path.exists(path):
        _create_key_file(path)
    with open(path, "rb") as handle:
        data = handle.read()
    if len(data) != KEY_BYTES:
        raise KeyFileError(damaged_key_file(path, len(data)))
    return data


def damaged_key_file(path: str, size: int) -> str:
    """What to say of a key file of the wrong size (the start-up checks say it too)."""
    return (
        f"{path} is damaged ({size} bytes, expected {KEY_BYTES}): restore it from a backup, or"
        f" delete it to start with a new key (tokens and stored provider keys made with the old"
        f" one stop working)"
    )


def _create_key_file(path: str) -> None:
    """Write a new key to a temporary file, then link it into place: the key file is complete or
    absent, never half-written (a crash leaves only the temporary file), and when two processes
    start together the first link wins and both read that key (a rename would let the second
    replace a key the first already uses)."""
    tmp = f"{path}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(os.urandom(KEY_BYTES))
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process got there first: its key is the key
    finally:
        os.unlink(tmp)


def derive(master: bytes, purpose: str, length: int = 32) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=f"pismo-sandbox/{purpose}".encode()).derive(
        master
    )


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
        return hmac.digest(self._key, data, "sha256").hex()

    def matches(self, data: bytes | str, fingerprint: str) -> bool:
        return hmac.compare_digest(self(data), fingerprint)
