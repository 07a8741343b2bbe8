"""The contract harness: Schemathesis over the bundled specs, against the simulator (in-process,
no sockets) or any Pismo base URL (the real sandbox, a served simulator).

What one run does:

1. Documents. Each selected spec is loaded *as served* (``pismo_sandbox.contract.load_document``:
   published text + overlay). Specs that share a server base path (``/intl-bankaccounts``,
   ``/integrated-payments``) are merged into one document, so OpenAPI links can join their
   operations (register -> get -> delete; validate -> pay -> receipts); the links come from
   ``contracts/openapi/links.yaml`` and are added only to the copy under test. Against a base
   URL, ``servers`` become ``<base URL><base path>``: the host changes, the base path stays.
2. State. A simulator the harness builds has seeded ids and a frozen clock (reproducible
   answers). On a simulator target the harness clears fault rules (``DELETE /_sandbox/faults``),
   creates a tenant and a NORMAL account through the admin API, chooses the tenant's bank-slip
   provider and logs in as that account. Against another base URL it logs in with the token, or
   the server key, secret and account, it is given. Tokens are refreshed before they expire
   (Pismo's last 600 s). ``contracts.hooks`` prepares what a valid case needs (a real ISPB, a
   valid boleto, a validate before a pay).
3. Schemathesis. Every phase (examples, coverage, fuzzing, stateful), positive and negative
   data, every built-in check plus the custom ones in ``contracts.hooks``, a fixed seed,
   derandomized generation, no example database: the same inputs on every run.
4. Result. Failures per operation and check, a text summary, optionally a JUnit XML report.

The admin API (the ``/_sandbox`` documents) runs last and, on a simulator the harness builds,
against an app of its own: fuzzing ``POST /_sandbox/reset`` or ``POST /_sandbox/clock`` must not pull the state out
from under the Pismo operations.
"""

from __future__ import annotations

import base64
import copy
import json
import os
import shutil
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Iterable

import yaml

from pismo_sandbox.contracts import hooks, report, stateful_checks
from pismo_sandbox.contract import ADMIN, SOURCES, TOKEN, SpecSource, load_document, read_text

DEFAULT_SEED = 20240611
DEFAULT_EXAMPLES = 100
LOGIN_PATH = "/passport/v2/s2s/access-token"
# The instant a simulator the harness builds for itself is frozen at (a Monday, 09:00 in Brasilia).
FROZEN_AT = "2030-06-03T12:00:00Z"
# Every check Schemathesis ships, by name: the harness enables all of them (plus ours).
BUILTIN_CHECKS = (
    "not_a_server_error", "status_code_conformance", "content_type_conformance",
    "response_headers_conformance", "response_schema_conformance", "negative_data_rejection",
    "positive_data_acceptance", "missing_required_header", "ignored_auth", "use_after_free",
    "ensure_resource_availability", "unsupported_method", "allow_header_conformance",
    "object_level_authorization",
)


# Per-operation settings, each with its reason: where a check cannot apply the way Schemathesis
# assumes (narrowed as little as possible, naming the recorded decision that makes it so), or
# where generation needs a nudge. Everything else runs every check with the run's settings
# (contracts/README.md, "Per-operation settings").
OPERATION_SETTINGS: tuple[dict, ...] = (
    {
        "match": {"include-method": "DELETE"},
        "label": "DELETE fuzzing uses random ids",
        "config": {"phases": {"fuzzing": {"extra-data-sources": {"responses": False}}}},
        "why": "Schemathesis fuzzes a DELETE only with ids earlier responses returned and stops once it "
               "has deleted them all (20-40 cases); random ids keep fuzzing at the full example count, "
               "while the stateful phase still deletes real resources through its links",
    },
    {
        "match": {"include-operation-id": "sandbox-get-bankslip-provider"},
        "label": "no use_after_free on GET /_sandbox/tenants/{tenant_id}/bankslip-provider",
        "config": {"checks": {"use_after_free": {"enabled": False}}},
        "why": "DELETE on this path forgets the admin's choice of provider (sandbox-admin-bankslips.yaml: "
               "'the provider credentials decide again'); the setting itself remains, so GET answers 200 "
               "after it by design. Schemathesis pairs DELETE and GET on one path as deleting a resource",
    },
    {
        "match": {"include-operation-id": "post-intl-bank-accounts-v2-accounts-account-id-bank-accounts-brazil"},
        "label": "unsupported_method skips GET/DELETE on .../bank-accounts/brazil (ERRATA S-03)",
        "config": {"phases": {"coverage": {"unexpected-methods": ["put", "patch", "trace", "options", "query"]}}},
        "why": "ERRATA S-03: GET and DELETE on .../bank-accounts/brazil are Get/Delete bank account "
               "with schemeName 'brazil', which is outside the enum (400 EIBA0009), so they are not "
               "undocumented methods of Register; unsupported_method still probes PUT, PATCH, TRACE, "
               "OPTIONS and QUERY on this path",
    },
)


class HarnessError(RuntimeError):
    """The harness could not run (bad arguments, login refused, target unreachable)."""


# -- credentials and targets -------------------------------------------------------------------


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
        return cls(token=env.get("PISMO_TOKEN") or None, server_key=env.get("PISMO_SERVER_KEY") or None,
                   server_secret=env.get("PISMO_SERVER_SECRET") or None,
                   account_id=int(account) if account else None,
                   admin_token=env.get("PISMO_SANDBOX_ADMIN_TOKEN") or None)

    @property
    def can_login(self) -> bool:
        return bool(self.server_key and self.server_secret)


class Target:
    """Where requests go: an in-process WSGI app (no sockets) or a base URL."""

    def __init__(self, app=None, base_url: str | None = None, timeout: float = 30,
                 admin_token: str | None = None):
        if (app is None) == (base_url is None):
            raise HarnessError("give either an app or a base URL")
        from werkzeug.test import Client

        self.app = app
        self.base_url = base_url.rstrip("/") if base_url else None
        self.timeout = timeout
        self.admin_token = admin_token
        self._client = Client(app) if app is not None else None  # any WSGI app, not only Flask
        self._lock = threading.Lock()
        self._session = None

    def request(self, method: str, path: str, json_body: Any = None, headers: dict | None = None):
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
                response = self._client.open(path, method=method, json=json_body, headers=headers)
            return response.status_code, dict(response.headers), response.get_json(silent=True)
        import requests

        if self._session is None:
            self._session = requests.Session()
        try:
            response = self._session.request(method, self.base_url + path, json=json_body,
                                             headers=headers, timeout=self.timeout)
        except requests.ConnectionError as error:
            reason = "connection refused" if "refused" in str(error).lower() else "cannot connect"
            raise HarnessError(f"{method} {self.base_url}{path}: {reason}; check --base-url and that the target"
                               " is running") from None
        except requests.RequestException as error:
            raise HarnessError(f"{method} {self.base_url}{path}: {error}") from None
        try:
            body = response.json()
        except ValueError:
            body = None
        return response.status_code, dict(response.headers), body


class TokenSource:
    """An account token: given as is, or from server login, refreshed before it expires."""

    def __init__(self, target: Target, credentials: Credentials, clock=time.monotonic):
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
        body = {"server_key": self.credentials.server_key, "server_secret": self.credentials.server_secret}
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


# -- documents ---------------------------------------------------------------------------------

_COMPONENT_SECTIONS = ("schemas", "parameters", "responses", "headers", "examples", "requestBodies",
                       "securitySchemes", "links", "callbacks", "pathItems")
_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


@dataclass
class SpecGroup:
    """One document under test: the specs sharing a base path, merged, with their links."""

    name: str
    sources: list[SpecSource]
    base_path: str
    document: dict
    links: list[str] = field(default_factory=list)
    links_skipped: list[str] = field(default_factory=list)
    duration: float = 0.0
    settings: list[str] = field(default_factory=list)  # labels of OPERATION_SETTINGS applied

    @property
    def auth(self) -> str:
        kinds = {source.auth for source in self.sources}
        return kinds.pop() if len(kinds) == 1 else TOKEN

    @property
    def operation_ids(self) -> set[str]:
        return {op["operationId"] for item in self.document.get("paths", {}).values()
                for method, op in item.items() if method in _METHODS and "operationId" in op}


def base_path(document: dict) -> str:
    url = ((document.get("servers") or [{"url": "/"}])[0].get("url") or "/")
    if "://" in url:
        rest = url.split("://", 1)[1]
        url = "/" + rest.split("/", 1)[1] if "/" in rest else "/"
    return url.rstrip("/")


def select_sources(names: Iterable[str] | None, remote: bool) -> list[SpecSource]:
    """The sources to test, admin API last. Default: everything on the simulator, and every Pismo
    API (not the sandbox's own admin API, which Pismo does not have) against a base URL."""
    by_name = {source.name: source for source in SOURCES}
    if names:
        unknown = [name for name in names if name not in by_name]
        if unknown:
            raise HarnessError(f"unknown spec {', '.join(unknown)}; known: {', '.join(by_name)}")
        chosen = [by_name[name] for name in dict.fromkeys(names)]
    else:
        chosen = [s for s in SOURCES if not (remote and s.auth == ADMIN)]
    return sorted(chosen, key=lambda s: s.auth == ADMIN)


def build_groups(sources: list[SpecSource], base_url: str | None = None) -> list[SpecGroup]:
    """Served documents, merged by base path, with links, servers pointed at the target."""
    grouped: dict[str, list[tuple[SpecSource, dict]]] = {}
    for source in sources:
        document = load_document(source)
        grouped.setdefault(base_path(document), []).append((source, document))
    links = load_links()
    groups = []
    for path, members in grouped.items():
        # The vendor document (if any) leads: its title, info and component names are kept.
        members.sort(key=lambda member: not member[0].vendor)
        document = merge_documents([document for _, document in members], [s.name for s, _ in members])
        document["servers"] = [{"url": (base_url.rstrip("/") if base_url else "") + path or "/"}]
        group = SpecGroup(name=members[0][0].name, sources=[s for s, _ in members], base_path=path,
                          document=document)
        apply_links(group, links)
        groups.append(group)
    return groups


def merge_documents(documents: list[dict], names: list[str]) -> dict:
    """One OpenAPI document from several: paths united, components renamed on collision, and
    document-level ``security`` and ``x-sandbox-errors`` pushed down into each operation (they
    differ per source document, and the custom checks read them per operation)."""
    merged = _push_down(copy.deepcopy(documents[0]))
    for document, name in zip(documents[1:], names[1:]):
        document = _push_down(copy.deepcopy(document))
        renames: dict[str, str] = {}
        for section in _COMPONENT_SECTIONS:
            theirs = (document.get("components") or {}).get(section) or {}
            ours = merged.setdefault("components", {}).setdefault(section, {})
            for key, value in theirs.items():
                if key in ours and ours[key] != value:
                    new = f"{key}.{name}"
                    renames[f"#/components/{section}/{key}"] = f"#/components/{section}/{new}"
        document = _rename_refs(document, renames)
        for section in _COMPONENT_SECTIONS:
            theirs = (document.get("components") or {}).get(section) or {}
            ours = merged["components"].setdefault(section, {})
            for key, value in theirs.items():
                ours.setdefault(key, value)
        for path, item in (document.get("paths") or {}).items():
            target = merged.setdefault("paths", {}).setdefault(path, {})
            for key, value in item.items():
                if key in target and key in _METHODS:
                    raise HarnessError(f"{key.upper()} {path} is defined twice ({name})")
                target.setdefault(key, value)
        merged.setdefault("tags", [])
        for tag in document.get("tags") or []:
            if tag not in merged["tags"]:
                merged["tags"].append(tag)
    merged["components"] = {k: v for k, v in merged.get("components", {}).items() if v}
    return merged


def _push_down(document: dict) -> dict:
    security = document.pop("security", None)
    errors = document.pop("x-sandbox-errors", None)
    for item in (document.get("paths") or {}).values():
        for method, operation in item.items():
            if method not in _METHODS or not isinstance(operation, dict):
                continue
            if security is not None:
                operation.setdefault("security", security)
            if errors:
                operation["x-sandbox-errors"] = {**errors, **operation.get("x-sandbox-errors", {})}
    return document


def _rename_refs(node: Any, renames: dict[str, str]) -> Any:
    if not renames:
        return node
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value in renames:
                out[key] = renames[value]
            elif key == "security" and isinstance(value, list):  # requirements name schemes, not $refs
                out[key] = [{_renamed_key("securitySchemes", name, renames): scopes
                             for name, scopes in requirement.items()} for requirement in value]
            elif key == "components" and isinstance(value, dict):
                out[key] = {section: {_renamed_key(section, name, renames): _rename_refs(v, renames)
                                      for name, v in (items or {}).items()}
                            for section, items in value.items()}
            else:
                out[key] = _rename_refs(value, renames)
        return out
    if isinstance(node, list):
        return [_rename_refs(item, renames) for item in node]
    return node


def _renamed_key(section: str, name: str, renames: dict[str, str]) -> str:
    new = renames.get(f"#/components/{section}/{name}")
    return new.rsplit("/", 1)[1] if new else name


def load_links() -> list[dict]:
    """The harness's OpenAPI links (contracts/openapi/links.yaml)."""
    return (yaml.safe_load(read_text("links.yaml")) or {}).get("links", [])


def apply_links(group: SpecGroup, links: list[dict]) -> None:
    """Add each link whose two operations are in this document; record the others as skipped
    (an operation not bundled yet, or in another document)."""
    operations = {}
    for item in group.document.get("paths", {}).values():
        for method, operation in item.items():
            if method in _METHODS and isinstance(operation, dict) and "operationId" in operation:
                operations[operation["operationId"]] = operation
    for link in links:
        source, target = link["from"], link["to"]
        if source not in operations and target not in operations:
            continue
        if source not in operations or target not in operations:
            group.links_skipped.append(f"{link['name']} ({source if source not in operations else target} not bundled)")
            continue
        responses = operations[source].setdefault("responses", {})
        status = str(link["status"])
        if status not in responses:
            group.links_skipped.append(f"{link['name']} ({source} declares no {status})")
            continue
        response = responses[status]
        if "$ref" in response:  # a shared response: link this operation's copy only
            response = responses[status] = copy.deepcopy(_resolve(group.document, response))
        definition = {"operationId": target}
        for key in ("parameters", "requestBody", "description"):
            if key in link:
                definition[key] = copy.deepcopy(link[key])
        response.setdefault("links", {})[link["name"]] = definition
        group.links.append(link["name"])


def _resolve(document: dict, node: dict) -> dict:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = document
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


# -- results -----------------------------------------------------------------------------------


@dataclass
class Finding:
    """One failed check on one operation (deduplicated by check and message)."""

    operation: str
    check: str
    title: str
    message: str
    status_code: int | None = None
    phase: str | None = None
    reproduce: str | None = None
    request: str | None = None   # the request sent (contracts.report.request_excerpt)
    response: str | None = None  # the offending response (contracts.report.response_excerpt)


@dataclass
class OperationResult:
    label: str
    spec: str
    cases: int = 0
    checks: Counter = field(default_factory=Counter)       # check name -> runs
    failed_checks: Counter = field(default_factory=Counter)  # check name -> failed runs
    findings: list[Finding] = field(default_factory=list)
    by_phase: Counter = field(default_factory=Counter)     # phase -> cases
    by_mode: Counter = field(default_factory=Counter)      # positive / negative -> cases
    statuses: Counter = field(default_factory=Counter)     # response status -> cases

    @property
    def failed(self) -> bool:
        return bool(self.findings)


@dataclass
class HarnessResult:
    target: str
    seed: int
    examples: int
    groups: list[SpecGroup] = field(default_factory=list)
    operations: dict[str, OperationResult] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    duration: float = 0.0
    logins: int = 0
    forgiven: int = 0  # use_after_free failures on resources created again (hooks.RECREATES)
    notes: list[str] = field(default_factory=list)  # what the reader should know (faults left alone)
    simulator: bool = True  # whether the target is this simulator (where a fix goes, in hints)

    @property
    def findings(self) -> list[Finding]:
        return [f for op in self.operations.values() for f in op.findings]

    @property
    def ok(self) -> bool:
        return not self.findings and not self.errors

    def summary(self, verbose: bool = True) -> str:
        """The summary table, then every failure with its request, response and a hint."""
        return report.summary(self, verbose)

    def write_junit(self, path: str) -> None:
        """JUnit XML: one test suite per document, one test case per operation, one <failure>
        per finding; harness and engine errors as <error>."""
        report.write_junit(self, path)


# -- the run -----------------------------------------------------------------------------------


def _wsgi_probe_fix() -> None:
    """Schemathesis 4.32 (transport/wsgi.py) drops socket-only settings (max_redirects, verify,
    cert, proxies) only when a requests session comes along; the probes some checks send
    (ignored_auth, content-type probes) come without one, and werkzeug refuses the keywords.
    Drop them for every in-process call. Idempotent; a no-op once upstream handles it."""
    from schemathesis.transport.wsgi import WSGITransport

    if getattr(WSGITransport.send, "_pismo_fixed", False):
        return
    original = WSGITransport.send

    def send(self, case, *, session=None, **kwargs):
        if session is None:
            for name in ("max_redirects", "verify", "cert", "proxies"):
                kwargs.pop(name, None)
        return original(self, case, session=session, **kwargs)

    send._pismo_fixed = True  # type: ignore[attr-defined]
    WSGITransport.send = send


def schemathesis_config(*, seed: int, examples: int, base_url: str | None, headers: dict | None = None,
                        phases: Iterable[str] | None = None, checks: Iterable[str] | None = None,
                        scopes: Iterable[dict] = ()):
    """The run's configuration, in schemathesis.toml terms (see contracts/README.md)."""
    import schemathesis

    enabled = set(BUILTIN_CHECKS + hooks.CUSTOM_CHECKS) if checks is None else set(checks)
    data: dict[str, Any] = {
        "seed": seed,
        "workers": 1,
        # Keep testing an operation after its first failure: a drift report lists them all.
        "continue-on-failure": True,
        "cache": {"enabled": False},
        # Not the literals of whatever Python modules the process has imported (in-process only):
        # which ones that is depends on the caller (pytest collection), so runs would differ.
        "analysis": {"constants": {"enabled": False}},
        "generation": {"mode": "all", "max-examples": examples, "deterministic": True,
                       "database": "none"},
        "checks": {name: {"enabled": name in enabled}
                   for name in BUILTIN_CHECKS + hooks.CUSTOM_CHECKS},
        "phases": {name: {"enabled": phases is None or name in phases}
                   for name in ("examples", "coverage", "fuzzing", "stateful")},
        "request-timeout": 30,
    }
    if scopes:
        data["operations"] = [{**scope["match"], **scope["config"]} for scope in scopes]
    if base_url:
        data["base-url"] = base_url
    if headers:
        data["headers"] = headers
    return schemathesis.Config.from_dict(data)


def run(*, app=None, base_url: str | None = None, specs: Iterable[str] | None = None,
        examples: int = DEFAULT_EXAMPLES, seed: int = DEFAULT_SEED, credentials: Credentials | None = None,
        junit: str | None = None, phases: Iterable[str] | None = None,
        checks: Iterable[str] | None = None, progress=None, verbose: bool = False,
        server_log: bool = False, provision: bool = False, clear_faults: bool = False) -> HarnessResult:
    """Run the harness. With neither ``app`` nor ``base_url``, against a fresh in-process simulator.

    ``progress`` (optional) is called with one line of text per operation once it has been
    through every phase but the stateful one, and one per document and stateful phase;
    ``verbose`` adds one per finished scenario. ``server_log`` keeps an in-process simulator's
    access log (silenced for the run otherwise). ``provision`` (a base URL that is a sandbox)
    creates the tenant, account and bank-slip provider the run needs through the target's admin
    API, as on a simulator the harness builds. ``clear_faults`` removes the target's fault rules
    first; otherwise they are left alone, and a note in the summary says how many are active.
    """
    if app is not None and base_url is not None:
        raise HarnessError("give an app or a base URL, not both")
    started = time.monotonic()
    cleanup: list[str] = []
    remote = base_url is not None
    result = HarnessResult(target=base_url or ("in-process simulator" if app is None else "in-process app"),
                           seed=seed, examples=examples, simulator=not remote or provision)
    quiet = None if server_log else _quiet_access_log()
    try:
        sources = select_sources(specs, remote)
        own_app = app is None and not remote
        if own_app:
            app = _fresh_app(cleanup, seed)
        target = Target(app=app, base_url=base_url, admin_token=(credentials or Credentials()).admin_token)
        groups = build_groups(sources, base_url)
        result.groups = groups
        if clear_faults:
            _clear_faults(target, simulator=not remote or provision)
        elif not own_app and (provision or not remote):
            _note_faults(target, result)
        tokens, state = None, hooks.RunState(seed=seed)
        pismo_groups = [g for g in groups if g.auth != ADMIN]
        if any(g.auth == TOKEN for g in pismo_groups):
            creds = _prepare(target, credentials or Credentials(), remote and not provision, state)
            if provision and progress is not None:
                progress(f"provisioned on {base_url}: tenant {state.tenant_id}, account {state.account_id}")
            tokens = TokenSource(target, creds)
            tokens.token()  # fail fast on bad credentials
        for group in groups:
            group_target = target
            if group.auth == ADMIN and own_app and pismo_groups:
                group_target = Target(app=_fresh_app(cleanup, seed))  # see the module docstring
            group_started = time.monotonic()
            _run_group(group, group_target, tokens, state, result, seed=seed, examples=examples,
                       credentials=credentials or Credentials(), phases=phases, checks=checks,
                       progress=progress, verbose=verbose)
            group.duration = time.monotonic() - group_started
        if tokens is not None:  # what only a stateful target gets right (contracts/stateful_checks.py)
            stateful_checks.record(result, state, pismo_groups, checks)
        result.logins = tokens.logins if tokens else 0
        result.forgiven = state.forgiven
    except HarnessError as error:
        result.errors.append(str(error))
    finally:
        for directory in cleanup:
            shutil.rmtree(directory, ignore_errors=True)
        if quiet is not None:
            quiet()
        result.duration = time.monotonic() - started
    if junit:
        result.write_junit(junit)
    return result


def _fresh_app(cleanup: list[str], seed: int):
    """A simulator of the harness's own: a temporary database, ids seeded and the clock frozen at
    FROZEN_AT, so that every response (ids, timestamps) and therefore every request derived from
    one (links, values reused from responses) is the same on every run with the same seed."""
    from pismo_sandbox.app import create_app
    from pismo_sandbox.config import Config

    directory = tempfile.mkdtemp(prefix="pismo-contract-")
    cleanup.append(directory)
    app = create_app(Config(db_path=os.path.join(directory, "sandbox.db"), id_seed=seed))
    status, _, body = Target(app=app).request("POST", "/_sandbox/clock", {"now": FROZEN_AT, "freeze": True})
    if status != 200:
        raise HarnessError(f"could not freeze the simulator's clock ({status}): {body}")
    return app


def _quiet_access_log():
    """Silence the simulator's access log (one line per request: thousands in a run) until the
    returned function is called."""
    import logging

    logger = logging.getLogger("pismo_sandbox.access")
    level = logger.level
    logger.setLevel(logging.WARNING)
    return lambda: logger.setLevel(level)


def _note_faults(target: Target, result: "HarnessResult") -> None:
    """Leave the target's fault rules alone, but say so when there are any: they shape answers."""
    status, _, body = target.request("GET", "/_sandbox/faults")
    rules = body.get("items") if status == 200 and isinstance(body, dict) else None
    if rules:
        result.notes.append(f"the target has {len(rules)} fault rule(s) ({', '.join(r.get('id', '?') for r in rules)});"
                            " they were left in place and may cause failures (--clear-faults removes them)")


def _clear_faults(target: Target, simulator: bool) -> None:
    """No injected faults while the contract is checked. A simulator without fault support
    answers 404/405; any other target (the real sandbox) may answer anything: it has none."""
    status, _, body = target.request("DELETE", "/_sandbox/faults")
    if simulator and status not in (204, 200, 404, 405):
        raise HarnessError(f"could not clear fault rules on the simulator ({status}): {body}")


def _prepare(target: Target, credentials: Credentials, remote: bool, state: hooks.RunState) -> Credentials:
    """The credentials to log in with, and the run state: on a simulator handed over in-process
    (or made for the run), a fresh tenant and NORMAL account made through the admin API; on a
    remote target, the credentials given."""
    if remote:
        if not (credentials.token or credentials.can_login):
            raise HarnessError("a remote target needs --token or --server-key/--server-secret "
                               "(env PISMO_TOKEN or PISMO_SERVER_KEY/PISMO_SERVER_SECRET), or --provision "
                               "when it is a pismo-sandbox (what the run needs is made through its admin API)")
        state.boleto = _codec_boleto()
        state.account_id = credentials.account_id
        return credentials
    status, _, tenant = target.request("POST", "/_sandbox/tenants", {})
    if status != 201:
        needs = "; the target requires its admin token: give --admin-token (env PISMO_SANDBOX_ADMIN_TOKEN)" \
            if status == 401 else ""
        raise HarnessError(f"could not create a tenant through the admin API ({status}): {tenant}{needs}")
    status, _, account = target.request("POST", f"/_sandbox/tenants/{tenant['tenant_id']}/accounts",
                                        {"status": "NORMAL"})
    if status != 201:
        raise HarnessError(f"could not create an account through the admin API ({status}): {account}")
    state.tenant_id, state.account_id = tenant["tenant_id"], account["account_id"]
    state.boleto = _simulator_boleto(target)
    # Bank slips need a provider: the admin choice wins over whatever provider credentials the
    # banking-auth run leaves behind (CELCOIN returns external_authorization, so Pay's strictest
    # path is the one exercised). A simulator without bank slips answers 404/405: ignored.
    target.request("PUT", f"/_sandbox/tenants/{tenant['tenant_id']}/bankslip-provider", {"provider": "CELCOIN"})
    return Credentials(server_key=tenant["server_key"], server_secret=tenant["server_secret"],
                       account_id=account["account_id"])


def _simulator_boleto(target: Target):
    """A valid slip from the simulator's admin API (POST /_sandbox/boletos), else the codec."""
    fallback = _codec_boleto()

    def make(amount: Decimal, kind: str = "bank") -> dict:
        status, _, body = target.request("POST", "/_sandbox/boletos", {"kind": kind, "amount": float(amount)})
        if status == 201 and isinstance(body, dict):
            return body
        return fallback(amount, kind)

    return make


def _codec_boleto():
    """A valid slip built with the FEBRABAN codec (check digits right; bank slips due in 30 days)."""
    from datetime import date, timedelta

    from pismo_sandbox.domains.bankslips import boleto

    def make(amount: Decimal, kind: str = "bank") -> dict:
        amount = Decimal(amount).quantize(Decimal("0.01"))
        slip = boleto.generate_bank_slip(amount, due_date=date.today() + timedelta(days=30)) \
            if kind == "bank" else boleto.generate_dealership_slip(amount)
        return {"kind": kind, "bar_code": slip.bar_code, "digitable_line": slip.digitable_line,
                "amount": float(slip.amount) if slip.amount is not None else None}

    return make


def _run_group(group: SpecGroup, target: Target, tokens: TokenSource | None, state, result: HarnessResult,
               *, seed: int, examples: int, credentials: Credentials, phases, checks, progress,
               verbose: bool = False) -> None:
    import schemathesis
    from schemathesis.engine import from_schema

    headers = None
    if group.auth == ADMIN and credentials.admin_token:
        headers = {"Authorization": f"Bearer {credentials.admin_token}"}
    scopes = [scope for scope in OPERATION_SETTINGS if _applies(scope["match"], group)]
    group.settings = [scope["label"] for scope in scopes]
    config = schemathesis_config(seed=seed, examples=examples, headers=headers, phases=phases, checks=checks,
                                 scopes=scopes,
                                 base_url=(target.base_url + group.base_path) if target.base_url else None)
    schema = schemathesis.openapi.from_dict(group.document, config=config)
    if target.app is not None:
        _wsgi_probe_fix()
        schema.app = target.app
    if group.auth == TOKEN and tokens is not None:
        _install_auth(schema, tokens)
    if state is not None and state.call is None:
        state.call = _caller(target, tokens)
    if state is not None:
        hooks.bind(schema, state)
    spec_of = {op: s.name for s in group.sources for op in _operation_ids(load_document(s))}
    if progress is not None:
        progress(f"{group.base_path or '/'}: {', '.join(s.name for s in group.sources)} "
                 f"({len(group.operation_ids)} operation(s))")
    last_unit = [p for p in ("examples", "coverage", "fuzzing") if phases is None or p in phases][-1:]
    try:
        _execute(from_schema(schema), group, result, spec_of, progress, verbose=verbose,
                 last_unit_phase=last_unit[0] if last_unit else None)
    finally:
        hooks.unbind(schema)


def _execute(engine, group: SpecGroup, result: HarnessResult, spec_of: dict, progress, *,
             verbose: bool = False, last_unit_phase: str | None = None) -> None:
    from schemathesis.engine import events

    seen_cases: dict[str, set[str]] = defaultdict(set)
    seen_findings: dict[str, set[tuple]] = defaultdict(set)
    seen_statuses: dict[str, set[str]] = defaultdict(set)
    stateful = Counter()
    errored: set[str] = set()
    printed: set[str] = set()
    names = {source.name for source in group.sources}
    for event in engine.execute():
        if isinstance(event, events.ScenarioFinished):
            _collect(event, result, spec_of, seen_cases, seen_findings, seen_statuses, group)
            phase = event.phase.value
            label = event.recorder.label
            if event.status.value == "error":
                errored.add(label)
            if progress is not None and verbose:
                progress(f"    {phase:<9} {label:<70} {event.status.value}")
            if progress is not None and phase == last_unit_phase and " " in label:
                method, path = label.split(" ", 1)
                op = result.operations.get(f"{method} {group.base_path}{path}")
                if op is not None and op.label not in printed:
                    printed.add(op.label)
                    progress(report.operation_line(op, errored=label in errored))
            if phase == "stateful":
                stateful[event.status.value] += 1
        elif isinstance(event, events.PhaseFinished) and event.phase.name.value == last_unit_phase \
                and progress is not None:
            for op in sorted(result.operations.values(), key=lambda op: op.label):
                if op.spec in names and op.label not in printed:  # none in the last phase (skipped)
                    printed.add(op.label)
                    progress(report.operation_line(op))
        elif isinstance(event, events.PhaseFinished) and event.phase.name.value == "stateful" \
                and progress is not None and stateful:
            outcome = ", ".join(f"{n} {status}" for status, n in sorted(stateful.items()))
            progress(f"  {'FAIL' if stateful.get('failure') else 'ok':<5} stateful phase over "
                     f"{len(group.links)} links  ({outcome})")
        elif isinstance(event, events.NonFatalError):
            result.errors.append(f"{group.name}: {event.label}: {event.info.format()}".strip())
        elif isinstance(event, events.FatalError):
            result.errors.append(f"{group.name}: fatal: {event.exception!r}")
        elif isinstance(event, events.EngineFinished):
            for failure in event.failures or []:
                result.errors.append(f"{group.name}: {failure.title}: {failure.message}")


def _applies(match: dict, group: SpecGroup) -> bool:
    """Whether a setting's operation filter (Schemathesis' include-* keys) selects anything here."""
    operations = [(method.upper(), op.get("operationId")) for item in group.document.get("paths", {}).values()
                  for method, op in item.items() if method in _METHODS and isinstance(op, dict)]
    return any(match.get("include-method", method).upper() == method
               and match.get("include-operation-id", operation_id) == operation_id
               for method, operation_id in operations)


def _operation_ids(document: dict) -> list[str]:
    return [op.get("operationId") for item in document.get("paths", {}).values()
            for method, op in item.items() if method in _METHODS and isinstance(op, dict)]


def _collect(event, result: HarnessResult, spec_of: dict, seen_cases, seen_findings, seen_statuses,
             group: SpecGroup) -> None:
    recorder = event.recorder
    for case_id, checks in recorder.checks.items():
        node = recorder.cases.get(case_id)
        if node is None:
            continue
        case = node.value
        label = f"{case.operation.method.upper()} {group.base_path}{case.operation.path}"
        operation_id = case.operation.definition.raw.get("operationId", "")
        op = result.operations.get(label)
        if op is None:
            op = result.operations[label] = OperationResult(label=label, spec=spec_of.get(operation_id, group.name))
        if case_id not in seen_cases[label]:
            seen_cases[label].add(case_id)
            op.cases += 1
            op.by_phase[event.phase.value] += 1
            meta = case.meta
            op.by_mode[meta.generation.mode.value if meta is not None else "positive"] += 1
        interaction = recorder.interactions.get(case_id)
        response = interaction.response if interaction is not None else None
        if response is not None and len(op.statuses) < 50 and case_id not in seen_statuses[label]:
            seen_statuses[label].add(case_id)
            op.statuses[response.status_code] += 1
        for check in checks:
            op.checks[check.name] += 1
            if check.failure_info is None:
                continue
            op.failed_checks[check.name] += 1
            failure = check.failure_info.failure
            key = (check.name, failure.title, failure.message)
            if key in seen_findings[label]:
                continue
            seen_findings[label].add(key)
            op.findings.append(Finding(
                operation=label, check=check.name, title=failure.title, message=failure.message,
                status_code=response.status_code if response is not None else None,
                phase=event.phase.value, reproduce=_reproduce(check.failure_info, case),
                request=report.request_excerpt(interaction.request) if interaction is not None else None,
                response=report.response_excerpt(response) if response is not None else None))


def _reproduce(info, case) -> str | None:
    sample = getattr(info, "code_sample", None)
    if sample:
        return sample.strip().replace("\n", " ")
    try:
        return case.as_curl_command()
    except Exception:  # noqa: BLE001 - a reproduction line is a nicety, never a reason to fail
        return None


def _install_auth(schema, tokens: TokenSource) -> None:
    """Every case gets the run's account token (refreshed before expiry by TokenSource)."""

    class PismoAccountToken:
        def get(self, case, context):
            return tokens.token()

        def set(self, case, data, context):
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

    schema.auth(refresh_interval=None)(PismoAccountToken)


def _caller(target: Target, tokens: TokenSource | None):
    def call(method: str, path: str, body: Any = None, headers: dict | None = None):
        sent = dict(headers or {})
        token = tokens.token() if tokens is not None else None
        if token:
            sent.setdefault("Authorization", f"Bearer {token}")
        status, _, answer = target.request(method, path, body, sent)
        return status, answer

    return call
