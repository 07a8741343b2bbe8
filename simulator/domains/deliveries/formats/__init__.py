"""Delivery formats: how one event (or an SNS subscription confirmation) is framed as the HTTP
push the client's real transport would make. Each format module has ``frame(push, keys)``."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from pismo_sandbox.domains.deliveries.signing import SnsSigner

FORMATS = ("pismo", "sns", "pubsub")
CONFIRMING = ("sns",)  # formats whose receiver must confirm before notifications flow


class SnsKeys(Protocol):
    """Where the SNS format finds its signer (the sandbox's stored keys, or a forwarder's own)."""

    def sns_signer(self) -> SnsSigner: ...


@dataclass(frozen=True)
class Push:
    """What a format needs to frame one attempt."""

    kind: str  # "event" or "confirmation"
    envelope: dict | None  # the Pismo event envelope (kind "event")
    subscription_id: str
    delivery_id: str
    attempt: int  # 1-based
    secret: str | None  # the subscription's signing secret (pismo format)
    public_base: str  # where the sandbox is reached, e.g. http://127.0.0.1:8080
    confirm_token: str | None  # the SNS confirmation token
    now: float  # seconds since the epoch


@dataclass(frozen=True)
class Framed:
    headers: dict[str, str]
    body: bytes
    message_id: str | None = None
    extra: dict = field(default_factory=dict)


def envelope_json(envelope: dict) -> str:
    """The envelope as compact JSON, in the base contract's field order."""
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False)


def frame(format_name: str, push: Push, keys: SnsKeys | None) -> Framed:
    """Frame ``push`` in ``format_name`` (``keys`` gives the SNS signer)."""
    return _framers()[format_name](push, keys)


def _framers() -> dict[str, Callable[[Push, SnsKeys | None], Framed]]:
    from pismo_sandbox.domains.deliveries.formats import pismo, pubsub, sns

    return {"pismo": pismo.frame, "sns": sns.frame, "pubsub": pubsub.frame}
