"""Id generation: random by default, reproducible when seeded."""

from __future__ import annotations

import random
import secrets
import threading
import uuid


class Ids:
    """Generates UUIDs and hex tokens; a seed makes the sequence repeat run after run."""

    def __init__(self, seed: int | None = None):
        self._lock = threading.Lock()
        self._random = random.Random(seed) if seed is not None else None

    def uuid(self) -> str:
        if self._random is None:
            return str(uuid.uuid4())
        with self._lock:
            return str(uuid.UUID(int=self._random.getrandbits(128), version=4))

    def token(self, nbytes: int = 16) -> str:
        if self._random is None:
            return secrets.token_hex(nbytes)
        with self._lock:
            return self._random.getrandbits(nbytes * 8).to_bytes(nbytes, "big").hex()
