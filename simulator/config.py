"""Configuration: defaults, and overrides from the environment (prefix PISMO_SANDBOX_)."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

ENV_PREFIX = "PISMO_SANDBOX_"
# The signing algorithms PISMO_SANDBOX_TOKEN_ALGORITHM may name (tokens.py signs with them).
TOKEN_ALGORITHMS = ("HS256", "HS512")
SYNCHRONOUS_LEVELS = ("OFF", "NORMAL", "FULL", "EXTRA")  # SQLite's PRAGMA synchronous


def _to_bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"not a boolean: {value!r}")


@dataclass(frozen=True)
class Config:
    """Everything the simulator can be told. Every field can be set as PISMO_SANDBOX_<NAME>."""

    db_path: str = "sandbox.db"
    # Master secret (base64, 32 bytes) from which the token-signing and encryption keys derive.
    # Unset: a random one is created once in "<db_path>.key" (mode 0600) and reused on restart.
    master_key: str | None = None
    token_ttl_seconds: int = 600
    token_algorithm: str = "HS512"
    # When set, /_sandbox/* requires "Authorization: Bearer <admin_token>".
    admin_token: str | None = None
    # Comma-separated Host names served besides loopback names and the bound address ("*": any).
    allowed_hosts: str | None = None
    # Comma-separated origins (scheme://host[:port]) allowed besides the sandbox's own ("*": any).
    allowed_origins: str | None = None
    # Seconds a write waits for the writer lock before it is answered 503/504 instead.
    write_lock_timeout_seconds: int = 10
    max_body_bytes: int = 64 * 1024
    # Bank-account registration checks "bank" against the bundled ISPB list only when asked
    # (ERRATA S-09): seed 002 says only that an ISPB is eight digits, and its example is not listed.
    strict_ispb: bool = False
    # Seed for generated ids (UUIDs, tokens' subjects); unset means random.
    id_seed: int | None = None
    # Per-request fault triggers through the x-sandbox-fault header (off by default).
    fault_header_enabled: bool = False
    # Fault rules (YAML or JSON: a list, or {"rules": [...]}) loaded at start-up, replacing any.
    faults_file: str | None = None
    # State file (YAML: tenants, accounts, server keys, credentials, bank accounts, bank-slip
    # providers; docs/python-api.md) applied at every start, idempotently.
    state_file: str | None = None
    journal_limit: int = 10_000
    # SQLite's PRAGMA synchronous. OFF: a crash of the simulator loses nothing (every commit is in
    # the operating system's hands before the answer leaves), but an operating-system crash or a
    # power cut may lose or damage the file; NORMAL or FULL also survive those, at a cost per
    # write (an fsync at every checkpoint or commit).
    synchronous: str = "OFF"
    # Each served worker loads openapi-core (the validators' fallback, for requests the compiled
    # validators reject) in the background once it serves, so the first rejected request does not
    # wait about half a second for it. Off: loaded by the first request that needs it, which
    # spares short-lived sandboxes (a test suite's) that CPU.
    warm_up: bool = True
    log_level: str = "INFO"
    # "text" (one line per record) or "json" (one JSON object per line, for log collectors).
    log_format: str = "text"
    # Bank slips: business days from payment to clearing (PAID -> SETTLED, 00:00 Brasilia).
    bankslip_clearing_days: int = 1
    # Seconds every provider keeps a payment PROCESSING; unset: each provider's own delay.
    bankslip_processing_seconds: int | None = None
    # Brazilian national holidays are not business days for clearing.
    bankslip_holidays: bool = True
    # Sandbox seconds a Validate bank slip result stays usable by Pay bank slip.
    bankslip_validation_ttl_seconds: int = 86_400
    # Event delivery (docs/events.md): hosts a subscription may push to ("*": any; loopback by
    # default, so a shared sandbox cannot be made to call arbitrary addresses), and the default
    # retry policy of a subscription: attempts, first backoff, growth factor, longest backoff and
    # the time a receiver has to answer, in seconds.
    delivery_hosts: str = "127.0.0.1,localhost,::1"
    delivery_max_attempts: int = 8
    delivery_backoff_seconds: float = 1.0
    delivery_backoff_factor: float = 2.0
    delivery_backoff_max_seconds: float = 60.0
    delivery_timeout_seconds: float = 5.0
    # Seconds between two looks at the outbox when it is idle (each worker's delivery thread).
    delivery_poll_seconds: float = 0.05
    # Receivers to subscribe at start-up (comma-separated URLs; `serve --subscribe URL`), in this
    # format, signed with this secret (unset: generated, and not shown).
    subscribe: str | None = None
    subscribe_format: str = "pismo"
    subscribe_secret: str | None = None
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        level = self.synchronous.upper()
        if level not in SYNCHRONOUS_LEVELS:
            raise ValueError(
                f"{ENV_PREFIX}SYNCHRONOUS: must be one of {', '.join(SYNCHRONOUS_LEVELS)}, not {self.synchronous!r}"
            )
        object.__setattr__(self, "synchronous", level)
        if self.write_lock_timeout_seconds < 1:
            raise ValueError(
                f"{ENV_PREFIX}WRITE_LOCK_TIMEOUT_SECONDS: must be at least 1, not {self.write_lock_timeout_seconds}"
            )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> "Config":
        """Build a config from defaults, then PISMO_SANDBOX_* variables, then ``overrides``."""
        source: Mapping[str, str] = os.environ if environ is None else environ
        values: dict = {}
        for f in dataclasses.fields(cls):
            if f.name == "extra":
                continue
            raw = source.get(ENV_PREFIX + f.name.upper())
            if raw is None:
                continue
            values[f.name] = _coerce(f, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


def _coerce(f: dataclasses.Field, raw: str) -> bool | int | float | str:
    kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
    try:
        if kind.startswith("bool"):
            return _to_bool(raw)
        if kind.startswith("int"):
            try:
                return int(raw)
            except ValueError:
                raise ValueError(f"must be a whole number, not {raw!r}") from None
        if kind.startswith("float"):
            try:
                return float(raw)
            except ValueError:
                raise ValueError(f"must be a number, not {raw!r}") from None
    except ValueError as exc:
        raise ValueError(f"{ENV_PREFIX}{f.name.upper()}: {exc}") from None
    return raw
