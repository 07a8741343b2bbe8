"""Token verification by one HMAC over the compact token, judged against PyJWT: for any token
(issued, tampered, expired or not yet valid on the sandbox clock, from another generation, with
claims or headers the sandbox never issues), the fast path gives exactly the verdict of the
PyJWT-only path (the same principal, or the same refusal)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, UTC

import jwt
from hypothesis import HealthCheck, given, settings, strategies as st

from pismo_sandbox.errors import Unauthorized
from pismo_sandbox.ids import Ids
from pismo_sandbox.tokens import GENERATION_CLAIM, Tokens

SECRET = b"k" * 64
NOW = datetime(2030, 6, 1, 12, 0, 0, tzinfo=UTC)


class FixedClock:
    def __init__(self, now: datetime):
        self._now = now

    def now(self) -> datetime:
        return self._now


def _tokens(generation: int = 3, *, reference: bool = False, now: datetime = NOW) -> Tokens:
    tokens = Tokens(SECRET, FixedClock(now), Ids(1), generation=lambda: generation)
    if reference:  # every token through PyJWT
        tokens._checked_claims = lambda token: None
    return tokens


def _verdict(tokens: Tokens, token) -> tuple:
    try:
        principal = tokens.verify(token)
    except Unauthorized as refused:
        return ("refused", refused.details)
    return ("accepted", principal)


def _signed(payload: dict, key: bytes, algorithm: str, headers: dict | None = None) -> str:
    """A JWS over any JSON payload (PyJWT's JWT encoder refuses some claims outright)."""
    return jwt.PyJWS().encode(json.dumps(payload).encode(), key, algorithm=algorithm, headers=headers)


def _both(token, **kwargs) -> tuple[tuple, tuple]:
    return _verdict(_tokens(**kwargs), token), _verdict(_tokens(reference=True, **kwargs), token)


NOW_S = int(NOW.timestamp())
claim_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63),
    st.floats(allow_nan=False),
    st.text(max_size=8),
    st.lists(st.text(max_size=4), max_size=2),
)
claims = st.fixed_dictionaries(
    {},
    optional={
        "iss": st.one_of(st.just("Passport"), claim_values),
        "sub": st.one_of(st.just("AUTH-1"), claim_values),
        "iat": st.one_of(st.just(NOW_S - 10), claim_values),
        "exp": st.one_of(st.integers(NOW_S - 100, NOW_S + 100), claim_values),
        "nbf": st.one_of(st.integers(NOW_S - 100, NOW_S + 100), claim_values),
        "tenant_id": st.one_of(st.just("TN-1"), claim_values),
        "account_id": st.one_of(st.integers(1, 10**6), claim_values),
        GENERATION_CLAIM: st.one_of(st.integers(1, 5), claim_values),
        "aud": st.one_of(st.just("someone"), claim_values),
        "jti": claim_values,
        "roles": st.just(["account-server"]),
    },
)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    payload=claims,
    algorithm=st.sampled_from(["HS256", "HS512", "HS384"]),
    key=st.sampled_from([SECRET, b"x" * 64]),
    headers=st.sampled_from([None, {"kid": "1"}, {"typ": "JOSE"}]),
)
def test_any_signed_token_gets_the_verdict_pyjwt_gives(payload, algorithm, key, headers):
    token = _signed(payload, key, algorithm, headers)
    fast, reference = _both(token)
    assert fast == reference


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    position=st.integers(0, 10_000),
    replacement=st.sampled_from(list("AQgw_-.=+/ é")),
    account=st.one_of(st.none(), st.integers(1, 10**6)),
    ttl=st.integers(-50, 600),
)
def test_a_tampered_issued_token_gets_the_verdict_pyjwt_gives(position, replacement, account, ttl):
    issued = _tokens().issue("TN-1", account, ttl_seconds=ttl).token
    index = position % len(issued)
    token = issued[:index] + replacement + issued[index + 1 :]
    fast, reference = _both(token)
    assert fast == reference
    if token == issued:
        assert fast[0] == ("accepted" if ttl > 0 else "refused")


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    ttl=st.integers(-50, 600),
    shift=st.integers(-700, 700),
    issued_in=st.integers(1, 4),
    checked_in=st.integers(1, 4),
    nbf_ahead=st.one_of(st.none(), st.integers(-60, 60)),
)
def test_time_and_generation_are_judged_alike_on_the_sandbox_clock(ttl, shift, issued_in, checked_in, nbf_ahead):
    claims = {
        "iss": "Passport",
        "sub": "AUTH-1",
        "iat": NOW_S,
        "exp": NOW_S + ttl,
        "tenant_id": "TN-1",
        GENERATION_CLAIM: issued_in,
    }
    if nbf_ahead is not None:
        claims["nbf"] = NOW_S + nbf_ahead
    token = jwt.encode(claims, SECRET, algorithm="HS512")
    at = NOW + timedelta(seconds=shift)
    fast, reference = _both(token, generation=checked_in, now=at)
    assert fast == reference
    valid = (
        issued_in == checked_in
        and NOW_S + ttl > at.timestamp()
        and (nbf_ahead is None or NOW_S + nbf_ahead <= at.timestamp())
    )
    assert (fast[0] == "accepted") == valid


def test_an_issued_token_is_verified_without_pyjwt(monkeypatch):
    tokens = _tokens()
    token = tokens.issue("TN-1", 7).token
    monkeypatch.setattr(jwt, "decode", lambda *a, **k: (_ for _ in ()).throw(AssertionError("PyJWT called")))
    assert tokens.verify(token).account_id == 7


def test_junk_that_is_not_a_token_is_refused_alike():
    for junk in ["", "a.b", "a.b.c", "...", "a.b.c.d", "Bearer x", "é.é.é"]:
        fast, reference = _both(junk)
        assert fast == reference and fast[0] == "refused"


def test_other_spellings_of_the_same_signature_get_the_verdict_pyjwt_gives():
    """Base64 decoding ignores the spare bits of the last character and characters outside its
    alphabet, so several strings decode to an issued signature: each is judged as PyJWT judges it."""
    issued = _tokens().issue("TN-1", 7, ttl_seconds=600).token
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    spellings = [issued[:-1] + c for c in alphabet] + [issued + c for c in ("=", "==", "+", "/", " ", "é")]
    verdicts = {token: _both(token) for token in spellings}
    assert all(fast == reference for fast, reference in verdicts.values()), {
        t[-3:]: v for t, v in verdicts.items() if v[0] != v[1]
    }
    assert verdicts[issued[:-1] + issued[-1]][0][0] == "accepted"
