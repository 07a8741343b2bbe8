"""Who may see the dashboard: the admin API's rule (the admin token, when one is set), presented
by a browser as a cookie that the login form sets, or as the admin API's bearer header.

The cookie never holds the token itself: it holds a keyed digest of it, so it proves knowledge of
the token, cannot be turned back into it, and stops working when the token changes.
"""

from __future__ import annotations

import hashlib
import hmac

COOKIE = "pismo_sandbox_ui"
COOKIE_PATH = "/_sandbox/ui"
_PURPOSE = b"pismo-sandbox dashboard session"


def session_value(admin_token: str) -> str:
    """The cookie value that stands for ``admin_token``."""
    return hmac.new(admin_token.encode(), _PURPOSE, hashlib.sha256).hexdigest()


def token_matches(candidate: str | None, admin_token: str) -> bool:
    return candidate is not None and hmac.compare_digest(candidate.encode(), admin_token.encode())


def allowed(admin_token: str | None, authorization: str | None, cookie: str | None) -> bool:
    """True when no admin token is set, or the request presents it (bearer header or cookie)."""
    if not admin_token:
        return True
    scheme, _, value = (authorization or "").partition(" ")
    if scheme.lower() == "bearer" and token_matches(value.strip(), admin_token):
        return True
    return cookie is not None and hmac.compare_digest(cookie.encode(), session_value(admin_token).encode())
