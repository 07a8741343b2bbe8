"""Per-provider behaviour of bank-slip payments: who returns an external authorization, the
settlement partner printed in status events, reconciliation, and lifecycle timing.

A tenant's provider comes from the admin API (``PUT /_sandbox/tenants/{id}/bankslip-provider``,
the only way to choose Itau, which seed 000's credential enum lacks) or, failing that, from its
provider credentials (``POST /banking-auth/v1/credentials``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Provider:
    name: str
    display: str
    # "Some providers return this value" (seed 003): which ones is not public; the sandbox says
    # Celcoin (its bill-payment API authorizes before paying) and Itau.
    returns_external_authorization: bool
    settlement_partner: str
    # Pay bank slip: no reconciliation event "if ... the provider is JD Consultores".
    reconciles: bool
    processing_seconds: int  # PROCESSING -> PAID / ERROR (sandbox seconds)
    timeout_seconds: int  # PROCESSING -> TIMEOUT


PROVIDERS: dict[str, Provider] = {
    p.name: p
    for p in (
        Provider("BTG", "BTG Pactual", False, "208 | BANCO BTG PACTUAL SA / AGENCIA 0001", True, 5, 30),
        # The settlement-partner string is the example of the status-change event documentation.
        Provider("CELCOIN", "Celcoin", True, "509 | CELCOIN INST. PAGAMENTO SA / AGENCIA 0001", True, 2, 20),
        Provider("ITAU", "Itau Unibanco", True, "341 | ITAU UNIBANCO SA / AGENCIA 0001", True, 10, 60),
        Provider("JDPI", "JD Consultores", False, "JD CONSULTORES / SPB", False, 3, 30),
    )
}

# Which stored credential (provider, type) makes a provider the tenant's bank-slip provider.
# JD Consultores pays with its BAAS credential (ERRATA S-11); its PIX credential, which was the
# only JDPI credential before, still counts so that existing tenants keep their provider.
CREDENTIAL_SLOTS: dict[tuple[str, str], str] = {
    ("BTG", "BAAS"): "BTG",
    ("CELCOIN", "BAAS"): "CELCOIN",
    ("JDPI", "BAAS"): "JDPI",
    ("JDPI", "PIX"): "JDPI",
}

ADMIN, CREDENTIAL = "admin", "credential"


@dataclass(frozen=True)
class Resolved:
    provider: Provider
    source: str  # ADMIN or CREDENTIAL


def resolve(admin_choice: str | None, credentials: list[dict]) -> Resolved | None:
    """The tenant's bank-slip provider: the admin setting wins; else the most recently updated
    credential in ``CREDENTIAL_SLOTS``; else None."""
    if admin_choice:
        return Resolved(PROVIDERS[admin_choice], ADMIN)
    usable = [c for c in credentials if (c["provider"], c["type"]) in CREDENTIAL_SLOTS]
    if not usable:
        return None
    latest = max(usable, key=lambda c: (c.get("updated_at") or "", c["provider"]))
    return Resolved(PROVIDERS[CREDENTIAL_SLOTS[(latest["provider"], latest["type"])]], CREDENTIAL)


def with_processing_seconds(provider: Provider, seconds: int | None) -> Provider:
    """The provider with a configured processing delay (PISMO_SANDBOX_BANKSLIP_PROCESSING_SECONDS)."""
    if seconds is None:
        return provider
    return Provider(
        provider.name,
        provider.display,
        provider.returns_external_authorization,
        provider.settlement_partner,
        provider.reconciles,
        seconds,
        max(seconds, provider.timeout_seconds),
    )
