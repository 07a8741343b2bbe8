"""Cross-site safety at the gateway: which Host, Origin and Content-Type a request may carry.

A web page the developer visits must not be able to drive the sandbox (docs/security.md):

- ``Host`` must be a loopback name (``localhost``, ``*.localhost``, ``127.0.0.0/8``, ``::1``),
  the address the server was bound to, the local address the connection arrived on, or a name
  in ``PISMO_SANDBOX_ALLOWED_HOSTS``: a DNS-rebound page sends its own name and is refused.
- ``Origin``, when present, must be the sandbox's own origin (the request's ``Host``) or one of
  ``PISMO_SANDBOX_ALLOWED_ORIGINS`` (``null``, sent by sandboxed frames and files, is refused
  unless listed).
- ``POST``, the one state-changing method a browser sends cross-site without a preflight, needs
  ``Content-Type: application/json``, with an empty body too. PUT, PATCH and DELETE always need
  a preflight, which the sandbox never grants (it answers no CORS headers), and the Origin
  check refuses them anyway.

These checks apply to every path, whether or not it is a documented operation. A refusal is
the gateway envelope (``GATEWAY_403`` / ``GATEWAY_415``), or, for a documented operation sent
the wrong media type, the error that operation documents for an unreadable body.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pismo_sandbox.contract import Operation
from pismo_sandbox.errors import SandboxError

if TYPE_CHECKING:
    from flask import Request

    from pismo_sandbox.config import Config

JSON_ONLY_METHODS = frozenset({"POST"})
WILDCARD_BINDS = frozenset({"", "0.0.0.0", "::", "[::]"})
DOCS = "see docs/security.md"


def _names(value: str | None) -> frozenset[str]:
    return frozenset(item.strip().lower().rstrip("/") for item in (value or "").split(",") if item.strip())


def split_host(host: str) -> str:
    """The name or address of a Host header value, without port or IPv6 brackets, lower case."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.rstrip(".")


def is_loopback(name: str) -> bool:
    """localhost, *.localhost (RFC 6761), 127.0.0.0/8 and ::1."""
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _same_address(a: str, b: str) -> bool:
    try:
        return ipaddress.ip_address(a.split("%", 1)[0]) == ipaddress.ip_address(b.split("%", 1)[0])
    except ValueError:
        return a == b


@dataclass(frozen=True)
class SitePolicy:
    """The hosts and origins this sandbox answers (from the configuration)."""

    allowed_hosts: frozenset[str] = frozenset()
    allowed_origins: frozenset[str] = frozenset()
    # Host value -> allowed by name (a handful of distinct values reach a sandbox; bounded).
    _named: dict = dataclasses.field(default_factory=dict, compare=False, hash=False, repr=False)

    @classmethod
    def from_config(cls, config: Config) -> "SitePolicy":
        return cls(_names(config.allowed_hosts), _names(config.allowed_origins))

    def host_allowed(self, host: str, environ: dict) -> bool:
        named = self._named.get(host)
        if named is None:
            name = split_host(host)
            named = is_loopback(name) or "*" in self.allowed_hosts or name in self.allowed_hosts
            if len(self._named) < 256:
                self._named[host] = named
        if named:
            return True
        local = _local_address(environ)
        return local is not None and _same_address(split_host(host), local)

    def origin_allowed(self, origin: str, host: str) -> bool:
        origin = origin.strip().lower().rstrip("/")
        if "*" in self.allowed_origins or origin in self.allowed_origins:
            return True
        scheme, sep, rest = origin.partition("://")
        return bool(sep) and scheme in ("http", "https") and rest == host.strip().lower()


def _local_address(environ: dict) -> str | None:
    """The address of this server the connection arrived on (gunicorn), if known."""
    sock = environ.get("gunicorn.socket")
    if sock is None:
        return None
    try:
        address = sock.getsockname()
    except OSError:
        return None
    return address[0] if isinstance(address, tuple) else None


def refusal(request: Request, policy: SitePolicy) -> SandboxError | None:
    """Why this request may not be served (a foreign Host or Origin), or None."""
    environ = request.environ
    host = environ.get("HTTP_HOST")
    if host is not None and not policy.host_allowed(host, environ):
        return _forbidden(
            f"Host {split_host(host)!r} is not served here: use a loopback name, or"
            f" add it to PISMO_SANDBOX_ALLOWED_HOSTS ({DOCS})"
        )
    origin = environ.get("HTTP_ORIGIN")
    if origin is not None and not policy.origin_allowed(origin, host or ""):
        return _forbidden(
            f"Origin {origin.strip()[:100]!r} is not allowed: only the sandbox's own"
            f" origin and PISMO_SANDBOX_ALLOWED_ORIGINS are ({DOCS})"
        )
    return None


def require_json(request: Request, op: Operation | None) -> None:
    """A POST must say ``Content-Type: application/json`` (empty bodies included); raises the
    operation's documented error for an unreadable body, or 415 in the gateway envelope."""
    if (
        request.method not in JSON_ONLY_METHODS
        or request.environ.get("CONTENT_TYPE") == "application/json"
        or request.mimetype == "application/json"
    ):
        return
    sent = request.mimetype or "none"
    details = f"POST needs Content-Type: application/json, even with an empty body (sent: {sent}; {DOCS})"
    if op is not None:
        documented = op.errors.get("malformed")
        if str(documented.status) in op.declared_statuses:
            documented.raise_(details=details)
    raise SandboxError("GATEWAY_415", "Unsupported Media Type", status=415, details=details)


def _forbidden(details: str) -> SandboxError:
    return SandboxError("GATEWAY_403", "Forbidden", status=403, details=details)


def with_bound_host(config: Config, host: str) -> Config:
    """``config`` that also allows the name the server is bound to (unless a wildcard)."""
    name = split_host(host)
    if name in WILDCARD_BINDS or is_loopback(name):
        return config
    allowed = ",".join(filter(None, [config.allowed_hosts, name]))
    return dataclasses.replace(config, allowed_hosts=allowed)


def exposure_warning(host: str, admin_token: str | None) -> str | None:
    """The start-up warning for a sandbox bound beyond loopback with its admin API open."""
    name = split_host(host)
    if admin_token or is_loopback(name):
        return None
    return (
        f"pismo-sandbox: WARNING: serving on {host} with the admin API open: anyone who can"
        f" reach this address can reset the sandbox, read its journal and mint tokens."
        f" Set PISMO_SANDBOX_ADMIN_TOKEN to protect it ({DOCS})."
    )
