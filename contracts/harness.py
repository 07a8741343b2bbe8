"""The contract harness: Schemathesis over the bundled specs, against the simulator (in-process,
no sockets) or any Pismo base URL (the real sandbox, a served simulator).

What one run does:

1. Documents. Each selected spec is loaded *as served* (``pismo_sandbox.contracts.bundle.load_document``:
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

This module is the run itself (configuration, the groups in order, collecting what Schemathesis
reports). Its parts, one job each: ``contracts.target`` (where requests go, tokens),
``contracts.groups`` (the documents under test), ``contracts.provisioning`` (the state a run
needs) and ``contracts.results`` (what a run produces).

The admin API (the ``/_sandbox`` documents) runs last and, on a simulator the harness builds,
against an app of its own: fuzzing ``POST /_sandbox/reset`` or ``POST /_sandbox/clock`` must not pull the state out
from under the Pismo operations.
"""

from __future__ import annotations

import shutil
import time
from collections import Counter, defaultdict
from typing import TYPE_CHECKING, Any
from collections.abc import Iterable
from collections.abc import Callable

from pismo_sandbox.contracts import hooks, report, stateful_checks
from pismo_sandbox.contracts.bundle import ADMIN, TOKEN, load_document
from pismo_sandbox.contracts.groups import _METHODS, SpecGroup, build_groups, select_sources
from pismo_sandbox.contracts.provisioning import clear_fault_rules, fresh_app, note_fault_rules, prepare
from pismo_sandbox.contracts.results import Finding, HarnessError, HarnessResult, OperationResult
from pismo_sandbox.contracts.target import Credentials, Target, TokenSource

if TYPE_CHECKING:
    from wsgiref.types import WSGIApplication

    import requests
    import schemathesis
    from schemathesis import BaseSchema, Case, Response
    from schemathesis.engine.core import Engine
    from schemathesis.engine.events import ScenarioFinished
    from schemathesis.engine.recorder import CheckFailureInfo
    from schemathesis.transport.wsgi import WSGITransport
    from werkzeug.test import Client

    from pismo_sandbox.contracts.run_state import RunState

DEFAULT_SEED = 20240611
DEFAULT_EXAMPLES = 100
# Every check Schemathesis ships, by name: the harness enables all of them (plus ours).
BUILTIN_CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "positive_data_acceptance",
    "missing_required_header",
    "ignored_auth",
    "use_after_free",
    "ensure_resource_availability",
    "unsupported_method",
    "allow_header_conformance",
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

    def send(
        self: WSGITransport, case: Case, *, session: Client | requests.Session | None = None, **kwargs: Any
    ) -> Response:
        if session is None:
            for name in ("max_redirects", "verify", "cert", "proxies"):
                kwargs.pop(name, None)
        return original(self, case, session=session, **kwargs)

    send._pismo_fixed = True  # type: ignore[attr-defined]
    WSGITransport.send = send  # type: ignore[method-assign]  # patched in place until upstream drops them


def schemathesis_config(
    *,
    seed: int,
    examples: int,
    base_url: str | None,
    headers: dict | None = None,
    phases: Iterable[str] | None = None,
    checks: Iterable[str] | None = None,
    scopes: Iterable[dict] = (),
) -> schemathesis.Config:
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
        "generation": {"mode": "all", "max-examples": examples, "deterministic": True, "database": "none"},
        "checks": {name: {"enabled": name in enabled} for name in BUILTIN_CHECKS + hooks.CUSTOM_CHECKS},
        "phases": {
            name: {"enabled": phases is None or name in phases}
            for name in ("examples", "coverage", "fuzzing", "stateful")
        },
        "request-timeout": 30,
    }
    if scopes:
        data["operations"] = [{**scope["match"], **scope["config"]} for scope in scopes]
    if base_url:
        data["base-url"] = base_url
    if headers:
        data["headers"] = headers
    return schemathesis.Config.from_dict(data)


def run(
    *,
    app: WSGIApplication | None = None,
    base_url: str | None = None,
    specs: Iterable[str] | None = None,
    examples: int = DEFAULT_EXAMPLES,
    seed: int = DEFAULT_SEED,
    credentials: Credentials | None = None,
    junit: str | None = None,
    phases: Iterable[str] | None = None,
    checks: Iterable[str] | None = None,
    progress: Callable[[str], None] | None = None,
    verbose: bool = False,
    server_log: bool = False,
    provision: bool = False,
    clear_faults: bool = False,
) -> HarnessResult:
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
    result = HarnessResult(
        target=base_url or ("in-process simulator" if app is None else "in-process app"),
        seed=seed,
        examples=examples,
        simulator=not remote or provision,
    )
    quiet = None if server_log else _quiet_access_log()
    try:
        sources = select_sources(specs, remote)
        own_app = app is None and not remote
        if own_app:
            app = fresh_app(cleanup, seed)
        target = Target(app=app, base_url=base_url, admin_token=(credentials or Credentials()).admin_token)
        groups = build_groups(sources, base_url)
        result.groups = groups
        if clear_faults:
            clear_fault_rules(target, simulator=not remote or provision)
        elif not own_app and (provision or not remote):
            note_fault_rules(target, result)
        tokens, state = None, hooks.RunState(seed=seed)
        pismo_groups = [g for g in groups if g.auth != ADMIN]
        if any(g.auth == TOKEN for g in pismo_groups):
            creds = prepare(target, credentials or Credentials(), remote and not provision, state)
            if provision and progress is not None:
                progress(f"provisioned on {base_url}: tenant {state.tenant_id}, account {state.account_id}")
            tokens = TokenSource(target, creds)
            tokens.token()  # fail fast on bad credentials
        for group in groups:
            group_target = target
            if group.auth == ADMIN and own_app and pismo_groups:
                group_target = Target(app=fresh_app(cleanup, seed))  # see the module docstring
            group_started = time.monotonic()
            _run_group(
                group,
                group_target,
                tokens,
                state,
                result,
                seed=seed,
                examples=examples,
                credentials=credentials or Credentials(),
                phases=phases,
                checks=checks,
                progress=progress,
                verbose=verbose,
            )
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


def _quiet_access_log() -> Callable[[], None]:
    """Silence the simulator's access log (one line per request: thousands in a run) until the
    returned function is called."""
    import logging

    logger = logging.getLogger("pismo_sandbox.access")
    level = logger.level
    logger.setLevel(logging.WARNING)
    return lambda: logger.setLevel(level)


def _run_group(
    group: SpecGroup,
    target: Target,
    tokens: TokenSource | None,
    state: RunState | None,
    result: HarnessResult,
    *,
    seed: int,
    examples: int,
    credentials: Credentials,
    phases: Iterable[str] | None,
    checks: Iterable[str] | None,
    progress: Callable[[str], None] | None,
    verbose: bool = False,
) -> None:
    import schemathesis
    from schemathesis.engine import from_schema

    headers = None
    if group.auth == ADMIN and credentials.admin_token:
        headers = {"Authorization": f"Bearer {credentials.admin_token}"}
    scopes = [scope for scope in OPERATION_SETTINGS if _applies(scope["match"], group)]
    group.settings = [scope["label"] for scope in scopes]
    config = schemathesis_config(
        seed=seed,
        examples=examples,
        headers=headers,
        phases=phases,
        checks=checks,
        scopes=scopes,
        base_url=(target.base_url + group.base_path) if target.base_url else None,
    )
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
        progress(
            f"{group.base_path or '/'}: {', '.join(s.name for s in group.sources)} "
            f"({len(group.operation_ids)} operation(s))"
        )
    last_unit = [p for p in ("examples", "coverage", "fuzzing") if phases is None or p in phases][-1:]
    try:
        _execute(
            from_schema(schema),
            group,
            result,
            spec_of,
            progress,
            verbose=verbose,
            last_unit_phase=last_unit[0] if last_unit else None,
        )
    finally:
        hooks.unbind(schema)


def _execute(
    engine: Engine,
    group: SpecGroup,
    result: HarnessResult,
    spec_of: dict,
    progress: Callable[[str], None] | None,
    *,
    verbose: bool = False,
    last_unit_phase: str | None = None,
) -> None:
    from schemathesis.engine import events

    seen_cases: dict[str, set[str]] = defaultdict(set)
    seen_findings: dict[str, set[tuple]] = defaultdict(set)
    seen_statuses: dict[str, set[str]] = defaultdict(set)
    stateful: Counter[str] = Counter()
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
        elif (
            isinstance(event, events.PhaseFinished)
            and event.phase.name.value == last_unit_phase
            and progress is not None
        ):
            for op in sorted(result.operations.values(), key=lambda op: op.label):
                if op.spec in names and op.label not in printed:  # none in the last phase (skipped)
                    printed.add(op.label)
                    progress(report.operation_line(op))
        elif (
            isinstance(event, events.PhaseFinished)
            and event.phase.name.value == "stateful"
            and progress is not None
            and stateful
        ):
            outcome = ", ".join(f"{n} {status}" for status, n in sorted(stateful.items()))
            progress(
                f"  {'FAIL' if stateful.get('failure') else 'ok':<5} stateful phase over "
                f"{len(group.links)} links  ({outcome})"
            )
        elif isinstance(event, events.NonFatalError):
            result.errors.append(f"{group.name}: {event.label}: {event.info.format()}".strip())
        elif isinstance(event, events.FatalError):
            result.errors.append(f"{group.name}: fatal: {event.exception!r}")
        elif isinstance(event, events.EngineFinished):
            for failure in event.failures or []:
                result.errors.append(f"{group.name}: {failure.title}: {failure.message}")


def _applies(match: dict, group: SpecGroup) -> bool:
    """Whether a setting's operation filter (Schemathesis' include-* keys) selects anything here."""
    operations = [
        (method.upper(), op.get("operationId"))
        for item in group.document.get("paths", {}).values()
        for method, op in item.items()
        if method in _METHODS and isinstance(op, dict)
    ]
    return any(
        match.get("include-method", method).upper() == method
        and match.get("include-operation-id", operation_id) == operation_id
        for method, operation_id in operations
    )


def _operation_ids(document: dict) -> list[str | None]:
    return [
        op.get("operationId")
        for item in document.get("paths", {}).values()
        for method, op in item.items()
        if method in _METHODS and isinstance(op, dict)
    ]


def _collect(
    event: ScenarioFinished,
    result: HarnessResult,
    spec_of: dict,
    seen_cases: dict[str, set[str]],
    seen_findings: dict[str, set[tuple]],
    seen_statuses: dict[str, set[str]],
    group: SpecGroup,
) -> None:
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
            op.findings.append(
                Finding(
                    operation=label,
                    check=check.name,
                    title=failure.title,
                    message=failure.message,
                    status_code=response.status_code if response is not None else None,
                    phase=event.phase.value,
                    reproduce=_reproduce(check.failure_info, case),
                    request=report.request_excerpt(interaction.request) if interaction is not None else None,
                    response=report.response_excerpt(response) if response is not None else None,
                )
            )


def _reproduce(info: CheckFailureInfo, case: Case) -> str | None:
    sample = getattr(info, "code_sample", None)
    if sample:
        return sample.strip().replace("\n", " ")
    try:
        return case.as_curl_command()
    except Exception:
        return None


def _install_auth(schema: BaseSchema, tokens: TokenSource) -> None:
    """Every case gets the run's account token (refreshed before expiry by TokenSource)."""

    class PismoAccountToken:
        def get(self, case: Case, context: schemathesis.AuthContext) -> str | None:
            return tokens.token()

        def set(self, case: Case, data: str, context: schemathesis.AuthContext) -> None:
            # a plain dict, as schemathesis stores generated headers (its annotation says CaseInsensitiveDict)
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}  # type: ignore[assignment, dict-item]

    schema.auth(refresh_interval=None)(PismoAccountToken)


def _caller(target: Target, tokens: TokenSource | None) -> Callable[..., tuple[int, Any]]:
    def call(method: str, path: str, body: Any = None, headers: dict | None = None) -> tuple[int, Any]:
        sent = dict(headers or {})
        token = tokens.token() if tokens is not None else None
        if token:
            sent.setdefault("Authorization", f"Bearer {token}")
        status, _, answer = target.request(method, path, body, sent)
        return status, answer

    return call
