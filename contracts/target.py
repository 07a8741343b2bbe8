"""Where the contract harness sends requests, and as whom: a target (an in-process WSGI app or a
base URL), the credentials it is given, and the account token it keeps fresh."""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pismo_sandbox.client import AdminClient
from pismo_sandbox.contracts.results import HarnessError

if TYPE_CHECKING:
    from wsgiref.types import WSGIApplication

    import requests

LOGIN_PATH = "/passport/v2/s2s/access-token"


@dataclass(frozen=True)
class Credentials:
    """How the harness gets an account token for a remote target."""

    token: str | None = None
    server_key: str | None = None
    server_secret: str | None = None
    account_id: int | None = None
    admin_token: str | None = None

    @classmethod
    def from_env(cls, environ: dict | None = None) -> "Credentials":
        env = os.environ if environ is None else environ
        account = env.get("PISMO_ACCOUNT_ID")
        return cls(
            token=env.get("PISMO_TOKEN") or None,
            server_key=env.get("PISMO_SERVER_KEY") or None,
            server_secret=env.get("PISMO_SERVER_SECRET") or None,
            account_id=int(account) if account else None,
            admin_token=env.get("PISMO_SANDBOX_ADMIN_TOKEN") or None,
        )

    @property
    def can_login(self) -> bool:
        return bool(self.server_key and self.server_secret)


class Target:
    """Where requests go: an in-process WSGI app (no sockets) or a base URL."""

    def __init__(
        self,
        app: WSGIApplication | None = None,
        base_url: str | None = None,
        timeout: float = 30,
        admin_token: str | None = None,
    ) -> None:
        if (app is None) == (base_url is None):
            raise HarnessError("give either an app or a base URL")
        from werkzeug.test import Client

        self.app = app
        self.base_url = base_url.rstrip("/") if base_url else None
        self.timeout = timeout
        self.admin_token = admin_token
        self._client = Client(app) if app is not None else None  # any WSGI app, not only Flask
        self._lock = threading.Lock()
        self._session: requests.Session | None = None
        self._admin: AdminClient | None = None

    @property
    def admin(self) -> AdminClient:
        """The target's admin API (a pismo-sandbox's), through the admin client, with the admin token."""
        if self._admin is None:
            self._admin = (
                AdminClient.in_process(self.app, self.admin_token)
                if self.app is not None
                else AdminClient(self.base_url or "", self.admin_token, timeout=self.timeout)
            )
        return self._admin

    def request(
        self, method: str, path: str, json_body: Any = None, headers: dict | None = None
    ) -> tuple[int, dict, Any]:
        """(status, headers, parsed JSON body or None)."""
        headers = dict(headers or {})
        if method.upper() == "POST":  # every POST is JSON, even an empty one (docs/security.md)
            headers.setdefault("Content-Type", "application/json")
        if self.admin_token and path.startswith("/_sandbox/"):
            headers.setdefault("Authorization", f"Bearer {self.admin_token}")
        if method.upper() not in ("GET", "HEAD", "OPTIONS") and not any(k.lower() == "content-type" for k in headers):
            headers["Content-Type"] = "application/json"  # state-changing calls, even without a body
        if self._client is not None:
            with self._lock:
                reply = self._client.open(path, method=method, json=json_body, headers=headers)
            return reply.status_code, dict(reply.headers), reply.get_json(silent=True)
        import requests

        if self._session is None:
            self._session = requests.Session()
        try:
            response = self._session.request(
                method, f"{self.base_url}{path}", json=json_body, headers=headers, timeout=self.timeout
            )
        except requests.ConnectionError as error:
            raise unreachable(method, f"{self.base_url}{path}", error) from None
        except requests.RequestException as error:
            raise HarnessError(f"{method} {self.base_url}{path}: {error}") from None
        try:
            body = response.json()
        except ValueError:
            body = None
        return response.status_code, dict(response.headers), body


def unreachable(method: str, url: str, error: Exception) -> HarnessError:
    """The error of a target that did not answer, naming the fix."""
    reason = "connection refused" if "refused" in str(error).lower() else "cannot connect"
    return HarnessError(f"{method} {url}: {reason}; check --base-url and that the target is running")


class TokenSource:
    """An account token: given as is, or from server login, refreshed before it expires."""

    def __init__(self, target: Target, credentials: Credentials, clock: Callable[[], float] = time.monotonic) -> None:
        self.target = target
        self.credentials = credentials
        self.clock = clock
        self._token: str | None = credentials.token
        self._refresh_at = float("inf") if credentials.token else 0.0
        self._lock = threading.Lock()
        self.logins = 0

    def token(self) -> str | None:
        with self._lock:
            if self.credentials.can_login and (self._token is None or self.clock() >= self._refresh_at):
                self._login()
            return self._token

    def _login(self) -> None:
        body: dict[str, str | int | None] = {
            "server_key": self.credentials.server_key,
            "server_secret": self.credentials.server_secret,
        }
        if self.credentials.account_id is not None:
            body["account_id"] = self.credentials.account_id
        status, _, answer = self.target.request("POST", LOGIN_PATH, body)
        if status != 200 or not isinstance(answer, dict) or not answer.get("token"):
            raise HarnessError(f"server login failed ({status}): {answer}")
        token = answer["token"]
        lifetime = answer.get("expires_in") or _jwt_lifetime(token) or 600
        # Refresh with a fifth of the lifetime (at least 30 s) to spare: a token never expires
        # between being handed out and reaching the server.
        self._refresh_at = self.clock() + max(lifetime - max(lifetime / 5, 30), lifetime / 2)
        self._token = token
        self.logins += 1


def _jwt_lifetime(token: str) -> float | None:
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return float(claims["exp"]) - float(claims.get("iat", time.time()))
    except (IndexError, ValueError, KeyError, TypeError):
        return None
