"""Account tokens: signed JWTs like Pismo Passport's, checked against the sandbox clock.

Every time claim (``exp``, ``nbf``) is judged on the sandbox clock, never on wall time. A token
also names the state generation it was issued in (``sandbox_generation``; every reset starts a
new one), so a token issued before a reset is refused for good, even when the same tenant and
account ids are created again.
"""

from __future__ import annotations

import base64
import hmac
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from collections.abc import Callable

import jwt
import orjson

from pismo_sandbox.clock import Clock
from pismo_sandbox.config import TOKEN_ALGORITHMS as ALGORITHMS
from pismo_sandbox.errors import Unauthorized
from pismo_sandbox.ids import Ids

ISSUER = "Passport"
GENERATION_CLAIM = "sandbox_generation"
_DIGESTS = {"HS256": "sha256", "HS512": "sha512"}
# Claims the sandbox issues: a token with any other (aud, jti, ...) is judged by PyJWT alone.
_ISSUED_CLAIMS = frozenset(
    {"iss", "sub", "iat", "exp", "nbf", "tenant_id", "roles", "account_id", "uid", GENERATION_CLAIM}
)


@dataclass(frozen=True)
class Principal:
    """Who is calling: the tenant, and the account for an account token."""

    tenant_id: str
    account_id: int | None
    subject: str

    @property
    def required_account_id(self) -> int:
        """The account of an operation that needs an account token (the gateway refuses a tenant
        token there: its error map documents ``missing_account``)."""
        if self.account_id is None:
            raise RuntimeError("no account: the gateway requires an account token for this operation")
        return self.account_id


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: datetime
    ttl_seconds: int


class Tokens:
    CACHE_SIZE = 10_000

    def __init__(
        self,
        secret: bytes,
        clock: Clock,
        ids: Ids,
        *,
        ttl_seconds: int = 600,
        algorithm: str = "HS512",
        generation: Callable[[], int] = lambda: 0,
    ):
        if algorithm not in ALGORITHMS:
            raise ValueError(f"token algorithm must be one of {ALGORITHMS}")
        self._secret = secret
        self.clock = clock
        self.ids = ids
        self.ttl_seconds = ttl_seconds
        self.algorithm = algorithm
        self.generation = generation  # the current state generation (bumped by every reset)
        self._verified: OrderedDict[str, tuple[Principal, _Times]] = OrderedDict()
        self._cache_lock = threading.Lock()
        # The header segment PyJWT writes for each accepted algorithm, and its HMAC's digest.
        self._digests = {jwt.encode({}, secret, algorithm=alg).split(".")[0]: _DIGESTS[alg] for alg in ALGORITHMS}

    def issue(
        self,
        tenant_id: str,
        account_id: int | None = None,
        ttl_seconds: int | None = None,
        roles: list[str] | None = None,
    ) -> IssuedToken:
        ttl = self.ttl_seconds if ttl_seconds is None else ttl_seconds
        now = self.clock.now().replace(microsecond=0)
        expires = now + timedelta(seconds=ttl)
        claims = {
            "iss": ISSUER,
            "sub": f"AUTH-{self.ids.uuid()}",
            "iat": int(now.timestamp()),
            "exp": int(expires.timestamp()),
            "tenant_id": tenant_id,
            "roles": roles or ["account-server"],
            GENERATION_CLAIM: self.generation(),
        }
        if account_id is not None:
            claims["account_id"] = account_id
            claims["uid"] = str(account_id)
        token = jwt.encode(claims, self._secret, algorithm=self.algorithm)
        return IssuedToken(token, expires, ttl)

    def verify(self, token: str) -> Principal:
        """Check signature, algorithm, issuer, generation, expiry and not-before (on the
        sandbox clock).

        A token whose signature was checked once is remembered (bounded LRU); its generation and
        times are re-checked on every use, because resets happen and the sandbox clock moves.
        """
        cached = self._verified.get(token)
        if cached is not None:
            principal, times = cached
            self._check_current(times)
            return principal
        principal, times = self._verify_signed(token)
        self._check_current(times)
        with self._cache_lock:
            self._verified[token] = (principal, times)
            if len(self._verified) > self.CACHE_SIZE:
                self._verified.popitem(last=False)
        return principal

    def _check_current(self, times: "_Times") -> None:
        if times.generation != self.generation():
            raise Unauthorized(details="token was issued before the sandbox was last reset")
        now = self.clock.now().timestamp()
        if times.expires <= now:
            raise Unauthorized(details="token has expired")
        if times.not_before is not None and times.not_before > now:
            raise Unauthorized(details="token is not valid yet (nbf is after the sandbox clock)")

    def _verify_signed(self, token: str) -> tuple[Principal, "_Times"]:
        claims = self._checked_claims(token)
        if claims is None:
            claims = self._decoded_by_pyjwt(token)
        return self._principal(claims)

    def _checked_claims(self, token: str) -> dict | None:
        """The claims of a token shaped as issued here, if its signature and the checks PyJWT
        would make (required claims, issuer, subject) pass; None sends it to PyJWT."""
        if not isinstance(token, str) or token.count(".") != 2:
            return None
        header, payload, signature = token.split(".")
        digest = self._digests.get(header)
        if digest is None:
            return None
        try:
            signed = f"{header}.{payload}".encode()
            # The signature as issued: the MAC in unpadded base64url. Only that canonical
            # spelling is judged here: base64 decoding drops characters outside its alphabet
            # and the spare bits of the last one, so other spellings of the same bytes go to
            # PyJWT, which decides them.
            expected = base64.urlsafe_b64encode(hmac.digest(self._secret, signed, digest)).rstrip(b"=")
            if not hmac.compare_digest(expected, signature.encode()):
                return None
            claims = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        except (ValueError, TypeError, orjson.JSONDecodeError):
            return None
        if (
            type(claims) is not dict
            or not claims.keys() <= _ISSUED_CLAIMS
            or any(claims.get(name) is None for name in ("iss", "sub", "iat", "exp"))
            or claims["iss"] != ISSUER
            or not isinstance(claims["sub"], str)
        ):
            return None
        return claims

    def _decoded_by_pyjwt(self, token: str) -> dict:
        try:
            claims = jwt.decode(  # time claims are checked on the sandbox clock, not here
                token,
                self._secret,
                algorithms=list(ALGORITHMS),
                issuer=ISSUER,
                options={
                    "require": ["iss", "sub", "iat", "exp"],
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
        except jwt.InvalidAlgorithmError:
            raise Unauthorized(details="token algorithm is not accepted") from None
        except jwt.InvalidSignatureError:
            raise Unauthorized(details="token signature is invalid") from None
        except jwt.MissingRequiredClaimError as exc:
            raise Unauthorized(details=f"token lacks the {exc.claim!r} claim") from None
        except jwt.InvalidIssuerError:
            raise Unauthorized(details="token issuer is not Passport") from None
        except jwt.PyJWTError:
            raise Unauthorized(details="token is malformed") from None
        return claims

    @staticmethod
    def _principal(claims: dict) -> tuple[Principal, "_Times"]:
        if not isinstance(claims.get("exp"), int):
            raise Unauthorized(details="token has no integer expiry")
        not_before = claims.get("nbf")
        if not_before is not None and (not isinstance(not_before, (int, float)) or isinstance(not_before, bool)):
            raise Unauthorized(details="token nbf is not a number")
        generation = claims.get(GENERATION_CLAIM)
        if not isinstance(generation, int) or isinstance(generation, bool):
            raise Unauthorized(details="token carries no sandbox generation (issued by an older sandbox?)")
        tenant = claims.get("tenant_id")
        if not isinstance(tenant, str) or not tenant:
            raise Unauthorized(details="token carries no tenant")
        account = claims.get("account_id")
        if account is not None and (not isinstance(account, int) or isinstance(account, bool)):
            raise Unauthorized(details="token account_id is not an integer")
        return (
            Principal(tenant_id=tenant, account_id=account, subject=str(claims["sub"])),
            _Times(claims["exp"], not_before, generation),
        )


@dataclass(frozen=True)
class _Times:
    """What is re-checked on every use of a verified token."""

    expires: int
    not_before: float | None
    generation: int
