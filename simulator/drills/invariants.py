"""Invariants: what must hold after a drill, judged only from the sandbox's own record (journal,
bank-slip payments, events, fault counters). Each one is a small function of an Observation and
its parameters, returning a Check that carries the evidence: the requests involved.

Retries are recognised in the journal: two requests are attempts of one logical request when
they carry the same keyed body fingerprint or the same idempotency key (same tenant, account
and operation). A request answered by a fault in phase "before" was never validated, so the
journal keeps no fingerprint for it; such a row is linked to the next request of the same
operation from the same account (a client retries before it moves on), and the evidence says the
link was inferred.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection

from pismo_sandbox.gateway.journal import answer_order
from pismo_sandbox.drills.model import Check, Observation

BODY_METHODS = ("POST", "PUT", "PATCH")
# The journal records these as 502; the client saw no HTTP answer at all.
SOCKET_FAULTS = {"reset": "connection reset", "empty": "closed without a byte", "malformed": "not HTTP"}
NAMES = (
    "no_slip_paid_twice",
    "retries_reuse_idempotency_key",
    "payments_reach_status",
    "retries_bounded",
    "faults_fired",
    "contract_clean",
)


# -- describing the evidence -------------------------------------------------------------------------


def fault_text(rule: dict | None) -> str:
    """One line for a rule: what it does, when, how often."""
    if rule is None:
        return "header-requested fault"
    action = rule.get("action", {})
    kind = action.get("type")
    if kind == "status":
        what = f"answer {action.get('status')}"
    elif kind == "delay":
        if action.get("distribution") == "uniform":
            what = f"delay {action.get('min_ms')}-{action.get('max_ms')} ms"
        elif action.get("distribution") == "lognormal":
            what = f"delay ~{action.get('median_ms')} ms (lognormal, cap {action.get('cap_ms')} ms)"
        else:
            what = f"delay {action.get('ms')} ms"
    elif kind == "timeout":
        what = f"hang {action.get('ms')} ms then 504"
    else:
        what = {
            "reset": "reset the connection",
            "empty": "close without answering",
            "malformed": "answer bytes that are not HTTP",
        }.get(kind, str(kind))
    phase = rule.get("phase", "before")
    when = (
        "after the request was processed and committed (the answer is lost)"
        if phase == "after"
        else "before the request is processed (nothing committed)"
    )
    if kind == "delay":
        when = "before processing" if phase == "before" else "after commit, before answering"
    match = rule.get("match") or {}
    target = match.get("operation_id") or match.get("path") or "every Pismo request"
    schedule = rule.get("schedule") or {}
    how = []
    if schedule.get("nth", 1) != 1:
        how.append(f"from the {schedule['nth']}th match")
    if schedule.get("times"):
        how.append(f"at most {schedule['times']} time(s)")
    if schedule.get("probability") is not None:
        how.append(f"with probability {schedule['probability']} (seed {schedule.get('seed', 0)})")
    text = f"{target}: {what}, {when}" + (f", {', '.join(how)}" if how else "")
    return f"{rule['description']} ({text})" if rule.get("description") else text


def describe_row(row: dict, faults_by_id: dict[str, dict] | None = None) -> str:
    """One journal row as a report line."""
    rule = (faults_by_id or {}).get(row.get("fault_rule") or "")
    socket = SOCKET_FAULTS.get((rule or {}).get("action", {}).get("type"))
    answer = f"no answer ({socket})" if socket else str(row["status"])
    parts = [f"#{row['seq']}", row["method"], row["path"], "->", answer]
    if row.get("idempotency_key"):
        parts.append(f"key={row['idempotency_key']}")
    if row.get("body_fingerprint"):
        parts.append(f"body={row['body_fingerprint'][:8]}")
    if row.get("fault_rule"):
        rule = (faults_by_id or {}).get(row["fault_rule"])
        phase = (rule or {}).get("phase")
        kind = (rule or {}).get("action", {}).get("type")
        if kind == "delay":
            note = "delayed"
        elif phase == "after":
            note = "answer lost after commit"
        else:
            note = "not processed"
        parts.append(f"[fault {row['fault_rule']}: {note}]")
    if row.get("verdict") not in (None, "ok", "fault_injected"):
        parts.append(f"[{row['verdict']}{': ' + row['detail'] if row.get('detail') else ''}]")
    if row.get("_inferred"):
        parts.append("[linked to its retry by order: no body fingerprint]")
    parts.append(f"({row.get('duration_ms', 0):.0f} ms)")
    return " ".join(parts)


def _faults_by_id(obs: Observation) -> dict[str, dict]:
    return {rule["id"]: rule for rule in obs.faults if "id" in rule}


def describe_payment(payment: dict, obs: Observation) -> str:
    name = obs.boleto_named(payment["bar_code"])
    slip = f"boleto {name!r}" if name else "slip"
    return (
        f"authorization {payment['authorization_id']} of {slip} (digitable line"
        f" {payment.get('digitable_line') or payment['bar_code']}, amount {payment['amount']:.2f},"
        f" account {payment['account_id']}) under key {payment.get('idempotency_key')!r},"
        f" status {payment['status']}"
    )


def _history(payment: dict) -> str:
    return " -> ".join(h["new_status"] for h in payment.get("history", [])) or payment["status"]


# -- attempts: which journal rows are one logical request ----------------------------------------------


class _Union:
    def __init__(self, n: int):
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def join(self, a: int, b: int) -> None:
        self.parent[self.find(a)] = self.find(b)


def attempt_groups(journal: list[dict], operations: list[str] | None = None) -> list[list[dict]]:
    """Logical requests of body-carrying operations, each a list of attempts in answer order."""
    rows = [
        dict(r)
        for r in sorted(journal, key=answer_order)
        if r.get("operation_id")
        and r["method"] in BODY_METHODS
        and (operations is None or r["operation_id"] in operations)
    ]
    union = _Union(len(rows))
    first: dict[tuple, int] = {}
    for i, row in enumerate(rows):
        scope = (row.get("tenant_id"), row.get("account_id"), row["operation_id"])
        for kind, value in (("fp", row.get("body_fingerprint")), ("key", row.get("idempotency_key"))):
            if value:
                j = first.setdefault((kind, scope, value), i)
                if j != i:
                    union.join(i, j)
    for i, row in enumerate(rows):
        if row.get("body_fingerprint") is None and row.get("verdict") == "fault_injected":
            for j in range(i + 1, len(rows)):
                other = rows[j]
                if (other.get("tenant_id"), other.get("account_id"), other["operation_id"], other["path"]) == (
                    row.get("tenant_id"),
                    row.get("account_id"),
                    row["operation_id"],
                    row["path"],
                ):
                    row["_inferred"] = True
                    union.join(i, j)
                    break
    groups: dict[int, list[dict]] = defaultdict(list)
    for i, row in enumerate(rows):
        groups[union.find(i)].append(row)
    return sorted(groups.values(), key=lambda g: answer_order(g[0]))


# -- the invariants ------------------------------------------------------------------------------------


def no_slip_paid_twice(obs: Observation, ignore_statuses: Collection[str] = ("ERROR", "TIMEOUT", "CANCELLED")) -> Check:
    """One payment per distinct slip and account (payments that ended ERROR, TIMEOUT or CANCELLED
    do not count: the slip may be paid again)."""
    name = "no_slip_paid_twice"
    counted = [p for p in obs.payments if p["status"] not in ignore_statuses]
    by_slip: dict[tuple, list[dict]] = defaultdict(list)
    for payment in counted:
        by_slip[(payment["tenant_id"], payment["account_id"], payment["bar_code"])].append(payment)
    twice = {k: v for k, v in by_slip.items() if len(v) > 1}
    if not twice:
        ignored = len(obs.payments) - len(counted)
        return Check(
            "invariant",
            name,
            True,
            f"{len(counted)} payment(s) of {len(by_slip)} slip(s): none paid twice"
            + (f" ({ignored} more ended {'/'.join(ignore_statuses)} and do not count)" if ignored else ""),
        )
    details, requests = [], []
    for (_, account, bar_code), payments in twice.items():
        boleto = obs.boleto_named(bar_code)
        details.append(
            f"{'boleto ' + repr(boleto) if boleto else 'slip ' + bar_code} was paid"
            f" {len(payments)} times by account {account}:"
        )
        keys = {p.get("idempotency_key") for p in payments}
        cids = {p.get("cid") for p in payments}
        for payment in payments:
            details.append(f"  duplicate payment: {describe_payment(payment, obs)} ({_history(payment)})")
        requests += [
            r
            for r in obs.journal
            if r.get("cid") in cids
            or (
                r.get("idempotency_key") in keys
                and r["operation_id"] == "post-integrated-payments-api-v1-bankslips-pay"
            )
        ]
    first = next(iter(twice.values()))
    return Check(
        "invariant",
        name,
        False,
        f"{len(twice)} slip(s) paid twice: duplicate payment authorizations"
        f" {', '.join(str(p['authorization_id']) for p in first)}",
        details,
        requests,
    )


def retries_reuse_idempotency_key(
    obs: Observation, operations: Collection[str] = ("post-integrated-payments-api-v1-bankslips-pay",)
) -> Check:
    """Every retry of a request reused the first attempt's idempotency key, and no key was reused
    for a different request."""
    name = "retries_reuse_idempotency_key"
    faults = _faults_by_id(obs)
    groups = attempt_groups(obs.journal, list(operations))
    details: list[str] = []
    requests: list[dict] = []
    duplicates: list[str] = []
    retries = sum(len(g) - 1 for g in groups)
    for group in groups:
        keys: list[str] = list(dict.fromkeys(r["idempotency_key"] for r in group if r.get("idempotency_key")))
        if len(keys) > 1:
            scope = group[0]
            paid = [
                p
                for p in obs.payments
                if p.get("idempotency_key") in keys
                and p["tenant_id"] == scope.get("tenant_id")
                and p["account_id"] == scope.get("account_id")
            ]
            details.append(
                f"one {scope['operation_id']} request was sent under {len(keys)} idempotency keys"
                f" ({', '.join(keys)}): to the provider, a new key is a new payment"
            )
            for payment in paid:
                row = next((r for r in group if r.get("idempotency_key") == payment.get("idempotency_key")), None)
                lost = ""
                if row is not None and row.get("fault_rule"):
                    lost = f"; the client got {row['status']} (injected by {row['fault_rule']}: "
                    lost += f"{fault_text(faults.get(row['fault_rule']))})"
                details.append(f"  paid: {describe_payment(payment, obs)}{lost}")
                duplicates.append(
                    f"{payment['authorization_id']}"
                    + (
                        f" (boleto {obs.boleto_named(payment['bar_code'])!r})"
                        if obs.boleto_named(payment["bar_code"])
                        else ""
                    )
                )
            original = ", ".join(f"authorization {p['authorization_id']}" for p in paid) or "the first attempt"
            for key in keys:
                if any(p.get("idempotency_key") == key for p in paid):
                    continue
                for row in (r for r in group if r.get("idempotency_key") == key):
                    if row["status"] == 409:
                        what = (
                            "refused with 409 because the slip was already paid (a provider that does"
                            " not check would have paid it twice)"
                        )
                    elif 200 <= row["status"] < 300:
                        what = f"answered {row['status']}: paid AGAIN"
                    else:
                        what = f"answered {row['status']}"
                    details.append(
                        f"  duplicate payment of {original}: retried under new key {key!r},"
                        f" request #{row['seq']} {what}"
                    )
            requests += group
    by_key: dict[tuple, list[dict]] = defaultdict(list)
    for row in obs.journal:
        if row.get("operation_id") in operations and row.get("idempotency_key") and row.get("body_fingerprint"):
            by_key[(row.get("tenant_id"), row.get("account_id"), row["idempotency_key"])].append(row)
    for (_, _, key), rows in by_key.items():
        if len({r["body_fingerprint"] for r in rows}) > 1:
            details.append(
                f"key {key!r} was reused for {len({r['body_fingerprint'] for r in rows})} different"
                " request bodies (the sandbox answers 409 IDEMPOTENCY_CONFLICT)"
            )
            requests += [r for r in rows if r not in requests]
    if not details:
        return Check(
            "invariant",
            name,
            True,
            f"{len(groups)} request(s), {retries} retr{'y' if retries == 1 else 'ies'}: every retry"
            " reused its idempotency key",
        )
    summary = "a retry was sent under a new idempotency key"
    if duplicates:
        summary += f": duplicate payment of authorization {', '.join(duplicates)}"
    return Check("invariant", name, False, summary, details, sorted(requests, key=answer_order))


def payments_reach_status(
    obs: Observation, status: str = "SETTLED", boletos: str | list[str] | dict[str, str] = "all"
) -> Check:
    """Every payment ended in its expected status, and every expected boleto was paid."""
    name = "payments_reach_status"
    by_name = (
        dict.fromkeys(obs.boletos, status)
        if boletos == "all"
        else (dict(boletos) if isinstance(boletos, dict) else dict.fromkeys(boletos, status))
    )
    details = []
    for payment in obs.payments:
        boleto = obs.boleto_named(payment["bar_code"])
        expected = by_name.get(boleto, status) if boleto is not None else status
        if payment["status"] != expected:
            details.append(
                f"{describe_payment(payment, obs)}: expected {expected}"
                f" (history: {_history(payment)}, next move at {payment.get('next_transition_at')})"
            )
    for boleto, expected in by_name.items():
        bar_code = obs.boletos.get(boleto, {}).get("bar_code")
        if not any(p["bar_code"] == bar_code for p in obs.payments):
            details.append(f"boleto {boleto!r} was never paid (expected a payment that ends {expected})")
    requests = [r for r in obs.journal if r.get("operation_id") == "post-integrated-payments-api-v1-bankslips-pay"]
    if details:
        return Check(
            "invariant", name, False, f"{len(details)} payment(s) not in their expected final status", details, requests
        )
    return Check(
        "invariant",
        name,
        True,
        f"{len(obs.payments)} payment(s), each ended {', '.join(sorted(set(by_name.values()) or {status}))}",
    )


def retries_bounded(
    obs: Observation,
    max_attempts: int = 5,
    final_statuses: Collection[int] = (),
    operations: Collection[str] | None = None,
) -> Check:
    """No request was left unanswered: every logical request took at most ``max_attempts``
    attempts and its last attempt got a 2xx (or one of ``final_statuses``, documented final 4xx)."""
    name = "retries_bounded"
    faults = _faults_by_id(obs)
    groups = attempt_groups(obs.journal, list(operations) if operations else None)
    details, requests = [], []
    for group in groups:
        last = max(group, key=answer_order)
        problems = []
        if len(group) > max_attempts:
            problems.append(f"{len(group)} attempts (limit {max_attempts})")
        if not (200 <= last["status"] < 300 or last["status"] in final_statuses):
            allowed = "2xx" + (f" or {', '.join(map(str, final_statuses))}" if final_statuses else "")
            problems.append(f"the last attempt got {last['status']}, not {allowed}: the client gave up")
        if problems:
            details.append(f"{group[0]['method']} {group[0]['path']}: {'; '.join(problems)}")
            details += [f"  {describe_row(r, faults)}" for r in group]  # the evidence, group by group
            requests += group
    most = max((len(g) for g in groups), default=0)
    if details:
        return Check(
            "invariant",
            name,
            False,
            f"{sum(1 for d in details if not d.startswith('  '))} request(s) left unanswered or retried past the limit",
            details,
            requests,
        )
    return Check(
        "invariant",
        name,
        True,
        f"{len(groups)} request(s) answered, at most {most} attempt(s) each (limit {max_attempts})",
    )


def faults_fired(obs: Observation) -> Check:
    """Every fault rule of the scenario fired at least once: a drill that injected nothing proved nothing."""
    name = "faults_fired"
    idle = [r for r in obs.faults if not r.get("fired")]
    lines = [
        f"{r.get('id')}: {fault_text(r)}: matched {r.get('matched', 0)}, fired {r.get('fired', 0)}" for r in obs.faults
    ]
    if idle:
        return Check(
            "invariant",
            name,
            False,
            f"{len(idle)} fault rule(s) never fired: the client never made the request they"
            " target, or the schedule never drew them",
            lines,
        )
    return Check(
        "invariant",
        name,
        True,
        f"{len(obs.faults)} fault rule(s), fired {sum(r.get('fired', 0) for r in obs.faults)} time(s)",
        lines,
    )


def contract_clean(obs: Observation) -> Check:
    """The sandbox never broke its own contract during the drill (a simulator bug otherwise)."""
    name = "contract_clean"
    bad = [r for r in obs.journal if r.get("verdict") == "response_invalid"]
    if bad:
        return Check(
            "invariant",
            name,
            False,
            f"{len(bad)} response(s) broke the contract: a pismo-sandbox bug, not the client's",
            [describe_row(r) for r in bad],
            bad,
        )
    return Check("invariant", name, True, f"{len(obs.journal)} response(s), all within the contract")


INVARIANTS: dict[str, Callable[..., Check]] = {
    "no_slip_paid_twice": no_slip_paid_twice,
    "retries_reuse_idempotency_key": retries_reuse_idempotency_key,
    "payments_reach_status": payments_reach_status,
    "retries_bounded": retries_bounded,
    "faults_fired": faults_fired,
    "contract_clean": contract_clean,
}


def evaluate(obs: Observation, configured: dict[str, dict | None]) -> list[Check]:
    """Run every invariant the scenario turned on (parameters from the scenario file)."""
    checks = []
    for name, params in configured.items():
        if params is None:
            continue
        check = INVARIANTS[name](obs, **params)
        checks.append(check)
    return checks
