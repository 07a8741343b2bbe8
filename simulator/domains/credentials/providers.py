"""Simulated providers: which provider offers which credential type, the token exchange Pismo
performs with the provider, and the documented trigger keys that make it fail on purpose.

Trigger keys are values of the request's ``key`` field (README, "Trigger catalogue").
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from pismo_sandbox.domains.credentials import errors
from pismo_sandbox.errors import SandboxError

# Seed 000's enums are provider {BTG, CELCOIN, JDPI} x type {PIX, BAAS}, and its prose names
# Celcoin, BTG and JD Consultores as Banking-as-a-Service partners: every pair is offered
# (ERRATA S-11). The table stays so that a narrower matrix is one edit.
SUPPORTED: dict[str, frozenset[str]] = {
    "BTG": frozenset({"PIX", "BAAS"}),
    "CELCOIN": frozenset({"PIX", "BAAS"}),
    "JDPI": frozenset({"PIX", "BAAS"}),
}

TOKEN_LIFETIME = timedelta(hours=1)

# Where in the upsert a trigger fires, and what it raises.
READ, VERIFY, DECRYPT, EXCHANGE, PARSE, SAVE = "read", "verify", "decrypt", "exchange", "parse", "save"

TRIGGERS: dict[str, tuple[str, type[SandboxError]]] = {
    "sandbox-provider-reject": (EXCHANGE, errors.ProviderRejected),
    "sandbox-provider-timeout": (EXCHANGE, errors.ProviderTimeout),
    "sandbox-provider-garbled": (PARSE, errors.ProviderResponseUnreadable),
    "sandbox-fail-EBAA0009": (VERIFY, errors.EncryptedValueMismatch),
    "sandbox-fail-EBAA0010": (DECRYPT, errors.DecryptFailed),
    "sandbox-fail-EBAA0011": (SAVE, errors.SaveFailed),
    "sandbox-fail-EBAA0012": (READ, errors.ReadFailed),
    "sandbox-fail-EBAA0014": (EXCHANGE, errors.BtgConfigurationMissing),
}


def is_supported(provider: str, type_: str) -> bool:
    return type_ in SUPPORTED.get(provider, frozenset())


@dataclass(frozen=True)
class ProviderToken:
    expires_at: datetime


class Trigger:
    """The failure a trigger key asks for, raised when the upsert reaches its stage."""

    def __init__(self, key: str):
        self.stage: str | None
        self.error: type[SandboxError] | None
        self.stage, self.error = TRIGGERS.get(key, (None, None))

    def fire(self, stage: str) -> None:
        if self.stage == stage and self.error is not None:
            raise self.error(details=f"sandbox trigger key (stage: {stage})")


def exchange(provider: str, client_id: str | None, trigger: Trigger, now: datetime) -> ProviderToken:
    """Pismo 'uses [the credential] to obtain an access token from the provider'.

    ``provider_data.client_id`` is optional for every provider, BTG included (ERRATA S-10): the
    seed's schema makes it optional and its own example request (BTG, PIX) has none, so the
    sandbox cannot know that a real BTG configuration would lack one. EBAA0014 is reached by the
    trigger key ``sandbox-fail-EBAA0014``."""
    trigger.fire(EXCHANGE)
    trigger.fire(PARSE)
    return ProviderToken(expires_at=now + TOKEN_LIFETIME)


def proxy_value(tenant_id: str, provider: str, type_: str, version: int) -> str:
    """The stand-in Pismo keeps for the real key (the key itself is never shown again)."""
    digest = hashlib.sha256(f"{tenant_id}|{provider}|{type_}|{version}".encode()).hexdigest()
    return f"pxy_{digest[:24]}"
