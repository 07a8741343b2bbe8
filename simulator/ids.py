"""Id generation: random by default, reproducible when seeded.

Unseeded ids take their random bytes from a per-process buffer filled 4 KiB at a time from the
system (``os.urandom``): one getrandom(2) per 256 ids instead of one per id. Each such call lets
go of the interpreter lock, and so lets the server's other threads in, in the middle of an
operation. A forked child starts with an empty buffer of its own, so no two processes hand out
the same bytes. The bytes are the system's, each handed out once, so tokens made here (a
tenant's server secret, a subscription's signing secret) are as unpredictable as
``secrets.token_hex``'s. The master key and the AES-GCM nonces do not come from here: crypto.py
asks the system for each one.
"""

from __future__ import annotations

import os
import random
import threading
import uuid

POOL_BYTES = 4096


class _SystemBytes:
    """Bytes from ``os.urandom``, fetched a buffer at a time, each handed out once."""

    def __init__(self, size: int = POOL_BYTES):
        self.size = size
        self._lock = threading.Lock()
        self._buffer = b""
        self._at = 0

    def take(self, count: int) -> bytes:
        with self._lock:
            if self._at + count > len(self._buffer):
                self._buffer, self._at = os.urandom(max(self.size, count)), 0
            taken = self._buffer[self._at : self._at + count]
            self._at += count
            return taken

    def forget(self) -> None:
        """Drop what is buffered (in a forked child: the parent hands those bytes out)."""
        self._lock = threading.Lock()  # a thread of the parent may have held it at the fork
        self._buffer, self._at = b"", 0


SYSTEM_BYTES = _SystemBytes()
if hasattr(os, "register_at_fork"):  # where processes fork (not on Windows)
    os.register_at_fork(after_in_child=SYSTEM_BYTES.forget)


class Ids:
    """Generates UUIDs and hex tokens; a seed makes the sequence repeat run after run."""

    def __init__(self, seed: int | None = None, source: _SystemBytes = SYSTEM_BYTES):
        self._lock = threading.Lock()
        self._random = random.Random(seed) if seed is not None else None
        self._source = source

    def uuid(self) -> str:
        if self._random is None:  # as str(uuid.uuid4()), from the buffered bytes
            raw = bytearray(self._source.take(16))
            raw[6] = raw[6] & 0x0F | 0x40  # version 4
            raw[8] = raw[8] & 0x3F | 0x80  # the RFC 4122 variant
            text = raw.hex()
            return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
        with self._lock:
            return str(uuid.UUID(int=self._random.getrandbits(128), version=4))

    def token(self, nbytes: int = 16) -> str:
        if self._random is None:  # as secrets.token_hex(nbytes)
            return self._source.take(nbytes).hex()
        with self._lock:
            return self._random.getrandbits(nbytes * 8).to_bytes(nbytes, "big").hex()
