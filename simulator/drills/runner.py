"""The drill runner: start a sandbox, and for each scenario reset it, set it up through the admin
API, install the faults, let the client (or the steps) run, let in-flight requests land, move the
clock, read back what the sandbox recorded, and judge it.

Isolation: one fresh sandbox per `pismo-sandbox drill` run (temporary database, free port,
`python -m pismo_sandbox serve`, started by pismo_sandbox.launcher), and `POST /_sandbox/reset` before every scenario, checked to have
left no tenant and no fault behind; reset deletes every tenant, account, payment, idempotency
record, event, journal row and fault rule and returns the clock to wall time. `--isolation fresh`
starts one sandbox per scenario instead (slower, nothing shared at all).
"""

from __future__ import annotations

import copy
import json
import sys
import time
import traceback
from typing import Any, Callable, Iterable

import requests

from pismo_sandbox.client import AdminClient, AdminError
from pismo_sandbox.drills import assertions, invariants
from pismo_sandbox.drills.client_program import ClientProgram, client_section
from pismo_sandbox.drills.errors import DrillError
from pismo_sandbox.drills.model import Check, DrillResult, Exchange, Observation
from pismo_sandbox.drills.references import interpolate
from pismo_sandbox.drills.scenario import Scenario
from pismo_sandbox.drills.scenario_file import format_path
from pismo_sandbox.launcher import Sandbox, SandboxStartError

TOKEN_TTL = 31_536_000          # the longest the admin API issues: advancing the clock never expires it
QUIET_SECONDS = 0.3              # no new journal row for this long: nothing is in flight
MAX_SETTLE_SECONDS = 60.0
ADMIN_TIMEOUT = 30
SLOW_PROVIDER_SECONDS = 2.0     # simulator.domains.bankslips.triggers.SLOW_SECONDS


class SandboxProcess(Sandbox):
    """`python -m pismo_sandbox serve` on a free port with a temporary database, for one drill
    run (started by pismo_sandbox.launcher, like every sandbox).

    PISMO_SANDBOX_* variables of the caller's environment are not passed on: every drill sees the
    default configuration, whoever runs it."""

    def __init__(self, workers: int = 2, threads: int = 8, startup_timeout: float = 60.0):
        super().__init__(workers=workers, threads=threads, startup_timeout=startup_timeout,
                         inherit_env=False, settings={"log_level": "WARNING"})

    def start(self) -> "SandboxProcess":
        try:
            super().start()
        except SandboxStartError as error:
            raise DrillError(f"the sandbox did not start: {error}") from None
        return self

    def log_tail(self, lines: int = 30) -> str:
        return "".join(self.output().splitlines(keepends=True)[-lines:])

    def cleanup(self) -> None:
        self.close()


# -- the runner ---------------------------------------------------------------------------------------

def _body_text(body: Any) -> str:
    return body if isinstance(body, str) else json.dumps(body, separators=(",", ":"))


def _json_or_text(response: requests.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text


def _url(sandbox: Sandbox) -> str:
    if sandbox.url is None:
        raise DrillError("the sandbox is not running")
    return sandbox.url


def _delay_bound(rule: dict) -> float:
    action = rule.get("action", {})
    if action.get("type") == "delay":
        return (action.get("max_ms") or action.get("cap_ms") or action.get("ms") or 0) / 1000
    if action.get("type") == "timeout":
        return (action.get("ms") or 0) / 1000
    return 0.0


class DrillRunner:
    """Plays scenarios against the sandbox at ``base_url`` (which it resets before each one)."""

    def __init__(self, base_url: str, client_command: str | list[str] | None = None,
                 echo: Callable[[str], None] | None = None, admin_token: str | None = None,
                 consumer_command: str | None = None) -> None:
        self.base = base_url.rstrip("/")
        self.consumer_override = consumer_command
        self.http = requests.Session()
        self.client_override = client_command
        self.echo = echo or (lambda _line: None)
        self.admin_headers = {"Authorization": f"Bearer {admin_token}"} if admin_token else {}
        self.client = AdminClient(self.base, admin_token, session=self.http, timeout=ADMIN_TIMEOUT)

    # -- admin API ---------------------------------------------------------------------------------
    def admin(self, method: str, path: str, what: str, expected: Iterable[int] = (200, 201, 204),
              *, json: Any = None, params: dict | None = None, headers: dict | None = None) -> Any:
        """A setup or observation call, through the admin client; DrillError naming ``what``."""
        try:
            return self.client.request(method, path, json=json, params=params, headers=headers, expect=expected)
        except AdminError as error:
            if error.status is None:
                raise DrillError(f"{what}: {method} {path} failed: {error}") from None
            raise DrillError(f"{what}: {method} {path} answered {error.status}: {_body_text(error.body)[:500]}") from None

    def _journal_rows(self, limit: int = 1000, tenant_id: str | None = None) -> list[dict]:
        params = {"limit": limit, **({"tenant_id": tenant_id} if tenant_id else {})}
        return self.admin("GET", "/_sandbox/journal", "reading the journal", params=params)["items"]

    def _window(self, context: dict, mark: int, recent: int = 1000) -> tuple[list[dict], bool]:
        """Pismo API rows after ``mark``, oldest first, and whether the read may be incomplete.
        Read per tenant (the runner's own /_sandbox calls fill the unfiltered journal), plus the
        most recent rows for requests no tenant could be told from (a bad token, server login)."""
        rows: dict[int, dict] = {}
        truncated = False
        for tenant in context["tenants"].values():
            found = [r for r in self._journal_rows(1000, tenant["tenant_id"]) if r["seq"] > mark]
            truncated |= len(found) >= 1000
            rows.update((r["seq"], r) for r in found)
        rows.update((r["seq"], r) for r in self._journal_rows(recent) if r["seq"] > mark)
        window = [r for r in rows.values() if not r["path"].startswith("/_sandbox")]
        return sorted(window, key=lambda r: r["seq"]), truncated

    # -- one scenario -----------------------------------------------------------------------------
    def run(self, scenario: Scenario) -> DrillResult:
        result = DrillResult(scenario.name, scenario.path, scenario.description)
        started = time.monotonic()
        try:
            self._run(scenario, result)
        except DrillError as error:
            result.error = str(error)
        except Exception as error:  # a runner bug must not stop the other drills
            result.error = f"the drill runner failed: {type(error).__name__}: {error}\n{traceback.format_exc()}"
        finally:
            result.duration = time.monotonic() - started
            try:
                self.client.clear_faults()
                if scenario.delivery_faults:
                    self.client.clear_delivery_faults()
            except AdminError:
                pass
        return result

    def _run(self, scenario: Scenario, result: DrillResult) -> None:
        self.echo(f"drill {scenario.name}: reset and setup")
        self._reset()
        context = self._setup(scenario)
        consumer = None
        if scenario.consumer is not None:  # a consumer drill: the consumer runs, subscribed, throughout
            from pismo_sandbox.drills.consumer import ConsumerRun
            consumer = ConsumerRun(self, scenario, context, self.consumer_override)
        try:
            if consumer is not None:
                consumer.start()
            journal_mark = max((r["seq"] for r in self._journal_rows(1)), default=0)
            events = self.admin("GET", "/_sandbox/events", "reading events", params={"limit": 1000})["items"]
            events_mark = max((e.get("seq", 0) for e in events), default=0)
            result.faults = self._install_faults(scenario, context)
            if consumer is not None:
                consumer.install_faults()
            if scenario.steps is not None:
                self.echo(f"drill {scenario.name}: {len(scenario.steps)} step(s)")
                self._run_steps(scenario, context, result)
            else:
                ClientProgram(self.base, self.client_override, self.echo).run(scenario, context, result)
            self._settle(scenario, context, result, journal_mark)
            for move in scenario.advance:
                seconds = move["seconds"] + 60 * move["minutes"] + 3600 * move["hours"] + 86400 * move["days"]
                self.admin("POST", "/_sandbox/clock", "advancing the clock", json={"advance_seconds": seconds})
                result.advanced_seconds += seconds
            if consumer is not None:
                consumer.wait(events_mark, result)
                consumer.run_check()
            result.observation = self._observe(scenario, context, result, journal_mark, events_mark)
            self._judge(scenario, context, result)
            if consumer is not None:
                result.checks += consumer.judge(scenario.expect.get("deliveries"))
                result.delivery_faults, result.consumer = consumer.rules, consumer.describe()
        finally:
            if consumer is not None:
                consumer.stop()

    def _reset(self) -> None:
        self.admin("POST", "/_sandbox/reset", "resetting the sandbox", json={})
        left = (self.admin("GET", "/_sandbox/tenants", "checking the reset")["items"],
                self.admin("GET", "/_sandbox/faults", "checking the reset")["items"])
        if any(left):
            raise DrillError(f"POST /_sandbox/reset left state behind ({len(left[0])} tenant(s),"
                             f" {len(left[1])} fault rule(s)): is another client using this sandbox?")

    # -- setup ----------------------------------------------------------------------------------------
    def _setup(self, scenario: Scenario) -> dict:
        setup = scenario.setup
        clock = setup.get("clock")
        if clock:
            body = {"now": clock["now"], "freeze": clock["freeze"]} if clock["now"] else {"freeze": clock["freeze"]}
            self.admin("POST", "/_sandbox/clock", "setup.clock", json=body)
        tenants, accounts = {}, {}
        for i, tenant in enumerate(setup["tenants"]):
            where = format_path(("setup", "tenants", i))
            body = {"tenant_id": tenant["tenant_id"]} if tenant["tenant_id"] else {}
            created = self.admin("POST", "/_sandbox/tenants", where, json=body)
            tenants[tenant["name"]] = {"name": tenant["name"], "tenant_id": created["tenant_id"],
                                       "server_key": created["server_key"],
                                       "server_secret": created["server_secret"]}
            for j, account in enumerate(tenant["accounts"]):
                body = {"account_id": account["account_id"]} if account["account_id"] else {}
                made = self.admin("POST", f"/_sandbox/tenants/{created['tenant_id']}/accounts",
                                  f"{where}.accounts[{j}]", json=body)
                token = self.admin("POST", "/_sandbox/tokens", f"{where}.accounts[{j}] (token)", json={
                    "tenant_id": created["tenant_id"], "account_id": made["account_id"], "ttl_seconds": TOKEN_TTL})
                accounts[account["name"]] = {"name": account["name"], "tenant_id": created["tenant_id"],
                                             "tenant": tenant["name"], "account_id": made["account_id"],
                                             "token": token["token"], "status": account["status"]}
            for k, credential in enumerate(tenant["credentials"]):
                owner = accounts[credential["account"] or tenant["accounts"][0]["name"]]
                body = {key: credential[key] for key in ("key", "provider", "type")}
                if credential["provider_data"] is not None:
                    body["provider_data"] = credential["provider_data"]
                self.admin("POST", "/banking-auth/v1/credentials", f"{where}.credentials[{k}]", expected=(201,),
                           json=body, headers={"Authorization": f"Bearer {owner['token']}"})
            if tenant["bankslip_provider"]:
                self.admin("PUT", f"/_sandbox/tenants/{created['tenant_id']}/bankslip-provider",
                           f"{where}.bankslip_provider", json={"provider": tenant["bankslip_provider"]})
            for j, account in enumerate(tenant["accounts"]):  # statuses last: credentials need NORMAL
                if account["status"] != "NORMAL":
                    self.admin("PATCH", f"/_sandbox/tenants/{created['tenant_id']}/accounts/"
                               f"{accounts[account['name']]['account_id']}", f"{where}.accounts[{j}].status",
                               json={"status": account["status"]})
        boletos = {}
        for i, boleto in enumerate(setup["boletos"]):
            # due_date is present only when the file gives it: an explicit null means "no due date"
            body = {k: v for k, v in boleto.items() if k != "name" and (v is not None or k == "due_date")}
            made = self.admin("POST", "/_sandbox/boletos", format_path(("setup", "boletos", i)), json=body)
            boletos[boleto["name"]] = {"name": boleto["name"], **made}
        primary = next(iter(accounts.values()))
        tenant = next(t for t in tenants.values() if t["tenant_id"] == primary["tenant_id"])
        return {"base_url": self.base, "python": sys.executable, "scenario_dir": scenario.directory,
                "tenant_id": primary["tenant_id"], "account_id": primary["account_id"],
                "token": primary["token"], "server_key": tenant["server_key"],
                "server_secret": tenant["server_secret"], "tenants": tenants, "accounts": accounts,
                "boletos": boletos, "steps": {}}

    def _install_faults(self, scenario: Scenario, context: dict) -> list[dict]:
        installed = []
        for i, fault in enumerate(scenario.faults):
            rule = copy.deepcopy(fault["rule"])
            match = rule.setdefault("match", {})
            if fault["refs"].get("tenant"):
                match["tenant_id"] = context["tenants"][fault["refs"]["tenant"]]["tenant_id"]
            if fault["refs"].get("account"):
                account = context["accounts"][fault["refs"]["account"]]
                match["tenant_id"], match["account_id"] = account["tenant_id"], account["account_id"]
            installed.append(self.admin("POST", "/_sandbox/faults", format_path(("faults", i)), json=rule))
        return installed

    # -- the requests the runner sends ----------------------------------------------------------------
    def send(self, name: str, request: dict, context: dict) -> Exchange:
        method = request["method"].upper()
        path = str(interpolate(request["path"], context))
        headers = {k: str(v) for k, v in interpolate(request["headers"], context).items()}
        auth = request.get("auth")
        if auth is None and path.startswith("/_sandbox"):
            headers = {**self.admin_headers, **headers}
        elif auth is None:
            headers.setdefault("Authorization", f"Bearer {context['token']}")
        elif auth not in (None, "none"):
            headers.setdefault("Authorization", f"Bearer {context['accounts'][auth]['token']}")
        kwargs = {"headers": headers, "params": interpolate(request["query"], context) or None,
                  "timeout": request["timeout_seconds"]}
        if request["json"] is not None:
            kwargs["json"] = interpolate(request["json"], context)
        elif method == "POST" and not any(name.lower() == "content-type" for name in headers):
            headers["Content-Type"] = "application/json"  # every POST is JSON (docs/security.md)
        exchange = Exchange(name, method, path)
        started = time.monotonic()
        try:
            response = self.http.request(method, self.base + path, **kwargs)
            exchange.status = response.status_code
            exchange.headers = dict(response.headers)
            exchange.body = _json_or_text(response)
        except requests.Timeout as error:
            exchange.error, exchange.error_text = "timeout", str(error)
        except requests.ConnectionError as error:
            exchange.error, exchange.error_text = "connection", str(error)
        exchange.duration = time.monotonic() - started
        return exchange

    def _run_steps(self, scenario: Scenario, context: dict, result: DrillResult) -> None:
        for i, step in enumerate(scenario.steps or []):
            try:
                exchange = self.send(step["name"], step, context)
            except KeyError as error:
                raise DrillError(f"steps[{i}] ({step['name']}): {error.args[0]}") from None
            result.exchanges.append(exchange)
            seen = {"status": exchange.status, "body": exchange.body,
                    "headers": {k.lower(): v for k, v in exchange.headers.items()}}
            context["steps"][step["name"]] = seen
            line = scenario.line_of(("steps", i))
            for var, where in step["capture"].items():
                head, _, rest = where.partition(".")
                value = assertions.dig(seen[head], rest) if rest else seen[head]
                if value is assertions.MISSING:
                    result.checks.append(Check("step", f"{step['name']}: capture {var}", False,
                                               f"{where} is not in the response ({exchange.describe()})",
                                               [f"response body: {str(exchange.body)[:500]}"], [], line))
                    value = None
                context[var] = value
            expect = interpolate(step["expect"], context) if step["expect"] else None
            if expect is not None:
                result.checks.append(assertions.response_check("step", step["name"], exchange, expect, line, []))

    def _settle(self, scenario: Scenario, context: dict, result: DrillResult, journal_mark: int) -> None:
        """Wait until requests still in flight (delayed by a fault, or by the slow-provider
        trigger) have landed in the journal: for every delay/timeout rule, as many journal rows
        name it as it fired; then no new row for QUIET_SECONDS."""
        started = time.monotonic()
        minimum = scenario.settle_seconds
        if minimum is None:
            slow = any(b.get("trigger") == "slow-provider" for b in scenario.setup["boletos"])
            minimum = SLOW_PROVIDER_SECONDS if slow else 0.0
        delayed = {r["id"] for r in result.faults if _delay_bound(r) > 0}
        bound = max([_delay_bound(r) for r in result.faults] + [0.0]) + minimum + 5
        last_seq, last_change = None, time.monotonic()
        while True:
            now = time.monotonic()
            recent = [r for r in self._journal_rows(100) if r["seq"] > journal_mark
                      and not r["path"].startswith("/_sandbox")]
            seq = max((r["seq"] for r in recent), default=journal_mark)
            if seq != last_seq:
                last_seq, last_change = seq, now
            landed = True
            if delayed:
                rows, _ = self._window(context, journal_mark, recent=100)
                fired = {r["id"]: r.get("fired", 0) for r in
                         self.admin("GET", "/_sandbox/faults", "reading faults")["items"] if r["id"] in delayed}
                for rule_id, count in fired.items():
                    if sum(1 for r in rows if r.get("fault_rule") == rule_id) < count:
                        landed = False
            if landed and now - last_change >= QUIET_SECONDS and now - started >= minimum:
                return
            if now - started > min(bound, MAX_SETTLE_SECONDS):
                result.notes.append(f"requests were still arriving {now - started:.1f} s after the client"
                                    " finished; judged what had landed")
                return
            time.sleep(0.1)

    # -- what happened ---------------------------------------------------------------------------------
    def _observe(self, scenario: Scenario, context: dict, result: DrillResult, journal_mark: int,
                 events_mark: int) -> Observation:
        journal, truncated = self._window(context, journal_mark)
        events = self.admin("GET", "/_sandbox/events", "reading events",
                            params={"after": events_mark, "limit": 1000})["items"]
        payments, credentials = [], []
        for name, tenant in context["tenants"].items():
            payments += self.admin("GET", "/_sandbox/bankslips", "reading payments",
                                   params={"tenant_id": tenant["tenant_id"], "limit": 1000})["items"]
            for credential in self.admin("GET", "/_sandbox/credentials", "reading credentials",
                                         params={"tenant_id": tenant["tenant_id"]})["items"]:
                credentials.append({**credential, "tenant_id": tenant["tenant_id"], "tenant": name})
        listed = {r["id"]: r for r in self.admin("GET", "/_sandbox/faults", "reading faults")["items"]}
        faults = [listed.get(r["id"], r) for r in result.faults]
        result.faults = faults
        return Observation(journal=journal, events=events, payments=payments, credentials=credentials,
                           faults=faults, boletos=context["boletos"], tenants=context["tenants"],
                           accounts=context["accounts"], journal_truncated=truncated)

    def _judge(self, scenario: Scenario, context: dict, result: DrillResult) -> None:
        obs = result.observation
        if obs is None:
            raise DrillError("the sandbox's record was not read")
        expected_exit = scenario.expect["client_exit_code"]
        for run in result.runs:
            name = "client exit code" + (f" (instance {run.instance})" if len(result.runs) > 1 else "")
            line = scenario.line_of(("expect", "client_exit_code")) or scenario.line_of(("client",))
            if run.timed_out:
                result.checks.append(Check("client", name, False,
                                           f"the client did not finish in {client_section(scenario)['timeout_seconds']:g} s"
                                           " and was killed", [], [], line))
            elif expected_exit is not None:
                passed = run.exit_code == expected_exit
                result.checks.append(Check("client", name, passed,
                                           f"exited {run.exit_code}" + ("" if passed else f", expected {expected_exit}"),
                                           [], [], line))
        for check in invariants.evaluate(obs, scenario.expect["invariants"]):
            check.line = scenario.line_of(("expect", "invariants", check.name), exact=True)
            result.checks.append(check)
        for i, assertion in enumerate(scenario.expect["assertions"]):
            line = scenario.line_of(("expect", "assertions", i))
            if assertion["kind"] == "request":
                name = assertion.get("description") or "probe"
                try:
                    exchange = self.send(name, assertion["request"], context)
                    expect = interpolate(assertion["expect"], context)
                except KeyError as error:
                    raise DrillError(f"expect.assertions[{i}]: {error.args[0]}") from None
                result.exchanges.append(exchange)
                result.checks.append(assertions.response_check("assertion", name, exchange, expect, line, []))
            else:
                result.checks.append(assertions.count_check(assertion, obs, line))
        if obs.journal_truncated:
            result.notes.append("more than 1000 requests in the drill window: the journal read may be incomplete")


def run_drills(scenarios: list[Scenario], *, base_url: str | None = None, isolation: str = "reset",
               client_command: str | None = None, workers: int = 2,
               on_result: Callable[[DrillResult], None] | None = None,
               echo: Callable[[str], None] | None = None, admin_token: str | None = None,
               consumer_command: str | None = None) -> list[DrillResult]:
    """Run every scenario; a fresh sandbox unless ``base_url`` names one to use (and reset,
    with ``admin_token`` if it requires one)."""
    results: list[DrillResult] = []

    def play(runner: DrillRunner, scenario: Scenario) -> None:
        result = runner.run(scenario)
        results.append(result)
        if on_result:
            on_result(result)

    def failed_to_start(scenario: Scenario, error: DrillError) -> None:
        result = DrillResult(scenario.name, scenario.path, scenario.description, error=str(error))
        results.append(result)
        if on_result:
            on_result(result)

    if base_url:
        runner = DrillRunner(base_url, client_command, echo, admin_token, consumer_command)
        for scenario in scenarios:
            play(runner, scenario)
        return results
    if isolation == "fresh":
        for scenario in scenarios:
            try:
                with SandboxProcess(workers=workers) as sandbox:
                    play(DrillRunner(_url(sandbox), client_command, echo, consumer_command=consumer_command), scenario)
            except DrillError as error:
                failed_to_start(scenario, error)
        return results
    try:
        with SandboxProcess(workers=workers) as sandbox:
            runner = DrillRunner(_url(sandbox), client_command, echo, consumer_command=consumer_command)
            for scenario in scenarios:
                play(runner, scenario)
    except DrillError as error:
        for scenario in scenarios[len(results):]:
            failed_to_start(scenario, error)
    return results
