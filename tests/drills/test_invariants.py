"""Each invariant and assertion on crafted journal, payment and fault data: it passes when the
client behaved, and fails naming the requests involved when it did not."""

from __future__ import annotations

from pismo_sandbox.drills import invariants
from pismo_sandbox.drills.assertions import count_check, response_problems
from pismo_sandbox.drills.invariants import attempt_groups
from pismo_sandbox.drills.model import Exchange, Observation

PAY = "post-integrated-payments-api-v1-bankslips-pay"
PAY_PATH = "/integrated-payments/v1/bankslips/pay"
VALIDATE = "post-integrated-payments-api-v1-bankslips-validate"
VALIDATE_PATH = "/integrated-payments/v1/bankslips/validate"
LOST = {
    "id": "fault-lost",
    "match": {"operation_id": PAY},
    "action": {"type": "status", "status": 504},
    "phase": "after",
    "schedule": {"times": 1},
    "matched": 1,
    "fired": 1,
}
BEFORE = {
    "id": "fault-before",
    "match": {"operation_id": PAY},
    "action": {"type": "status", "status": 504},
    "phase": "before",
    "schedule": {},
    "matched": 1,
    "fired": 1,
}


def row(seq, status, key=None, fp="fp-bill", op=PAY, path=PAY_PATH, fault=None, verdict="ok", tenant="TN-1", account=1):
    return {
        "seq": seq,
        "method": "POST",
        "path": path,
        "operation_id": op,
        "status": status,
        "tenant_id": tenant,
        "account_id": account,
        "cid": f"cid-{seq}",
        "verdict": verdict,
        "fault_rule": fault,
        "duration_ms": 1.0,
        "idempotency_key": key,
        "body_fingerprint": fp,
    }


def payment(authorization, key, bar_code="BILL", status="SETTLED", account=1, history=None):
    return {
        "authorization_id": authorization,
        "tenant_id": "TN-1",
        "account_id": account,
        "status": status,
        "amount": 150.0,
        "bar_code": bar_code,
        "digitable_line": f"LINE-{bar_code}",
        "idempotency_key": key,
        "cid": None,
        "next_transition_at": None,
        "history": history or [{"new_status": "PROCESSING"}, {"new_status": status}],
    }


def observe(journal=(), payments=(), faults=(), events=(), credentials=()):
    return Observation(
        journal=list(journal),
        events=list(events),
        payments=list(payments),
        credentials=list(credentials),
        faults=list(faults),
        boletos={"bill": {"bar_code": "BILL"}, "rent": {"bar_code": "RENT"}},
        tenants={"acme": {"tenant_id": "TN-1"}},
        accounts={"acme": {"tenant_id": "TN-1", "account_id": 1}},
    )


# -- grouping attempts -------------------------------------------------------------------------------


def test_attempts_are_linked_by_fingerprint_and_by_key():
    groups = attempt_groups(
        [
            row(1, 504, "k1", fault="fault-lost"),
            row(2, 202, "k1"),
            row(3, 202, "k2", fp="fp-rent"),
            row(4, 202, "k3", fp="fp-other", account=2),
        ]
    )
    assert [[r["seq"] for r in g] for g in groups] == [[1, 2], [3], [4]]


def test_a_before_fault_row_without_fingerprint_is_linked_to_the_next_attempt():
    groups = attempt_groups(
        [
            row(1, 504, None, fp=None, op=VALIDATE, path=VALIDATE_PATH, fault="f", verdict="fault_injected"),
            row(2, 200, None, fp="fp-v", op=VALIDATE, path=VALIDATE_PATH),
        ]
    )
    assert len(groups) == 1 and groups[0][0]["_inferred"]


# -- no_slip_paid_twice ------------------------------------------------------------------------------


def test_one_payment_per_slip_passes():
    check = invariants.no_slip_paid_twice(observe(payments=[payment(1, "k1"), payment(2, "k2", "RENT")]))
    assert check.passed, check.summary


def test_a_slip_paid_twice_fails_naming_both_payments():
    journal = [row(1, 504, "k1", fault="fault-lost"), row(2, 202, "k2")]
    check = invariants.no_slip_paid_twice(observe(journal, [payment(70000001, "k1"), payment(70000002, "k2")]))
    assert not check.passed
    assert "70000001" in check.summary and "70000002" in check.summary
    assert any("boleto 'bill'" in d for d in check.details)
    assert {r["seq"] for r in check.requests} == {1, 2}


def test_a_payment_that_ended_in_error_may_be_paid_again():
    check = invariants.no_slip_paid_twice(observe(payments=[payment(1, "k1", status="ERROR"), payment(2, "k2")]))
    assert check.passed and "do not count" in check.summary


def test_the_same_slip_paid_by_two_accounts_is_not_a_duplicate():
    check = invariants.no_slip_paid_twice(observe(payments=[payment(1, "k1"), payment(2, "k2", account=2)]))
    assert check.passed


# -- retries_reuse_idempotency_key -----------------------------------------------------------------------


def test_a_retry_under_the_same_key_passes():
    obs = observe([row(1, 504, "k1", fault="fault-lost"), row(2, 202, "k1")], [payment(70000001, "k1")], [LOST])
    check = invariants.retries_reuse_idempotency_key(obs)
    assert check.passed and "1 retry" in check.summary


def test_a_retry_under_a_new_key_fails_and_names_the_duplicate_payment():
    obs = observe([row(1, 504, "k1", fault="fault-lost"), row(2, 409, "k2")], [payment(70000001, "k1")], [LOST])
    check = invariants.retries_reuse_idempotency_key(obs)
    assert not check.passed
    assert "duplicate payment of authorization 70000001 (boleto 'bill')" in check.summary
    text = "\n".join(check.details)
    assert "k1" in text and "k2" in text and "answer is lost" in text
    assert "retried under new key 'k2', request #2 refused with 409" in text
    assert [r["seq"] for r in check.requests] == [1, 2]


def test_attempts_are_judged_in_answer_order_when_two_workers_committed_them_the_other_way():
    # The lost attempt was answered first by one worker; the retry, answered by the other, was
    # committed (numbered) first.
    first = dict(row(2, 504, "k1", fault="fault-lost"), answered_at="2026-12-04T20:00:00.100000Z")
    retry = dict(row(1, 409, "k2"), answered_at="2026-12-04T20:00:00.300000Z")
    obs = observe([retry, first], [payment(70000001, "k1")], [LOST])
    check = invariants.retries_reuse_idempotency_key(obs)
    assert [r["idempotency_key"] for r in check.requests] == ["k1", "k2"]
    assert "retried under new key 'k2', request #1 refused with 409" in "\n".join(check.details)
    last_answered = invariants.retries_bounded(obs)  # the retry's 409 is the last answer
    assert not last_answered.passed and "last attempt got 409" in last_answered.details[0]


def test_a_retry_that_paid_again_is_reported_as_paid_again():
    obs = observe(
        [row(1, 504, "k1", fault="fault-lost"), row(2, 202, "k2")],
        [payment(70000001, "k1"), payment(70000002, "k2")],
        [LOST],
    )
    check = invariants.retries_reuse_idempotency_key(obs)
    assert not check.passed and "70000001" in check.summary and "70000002" in check.summary


def test_a_new_key_after_a_before_fault_is_caught_by_inference():
    obs = observe(
        [row(1, 504, "k1", fp=None, fault="fault-before", verdict="fault_injected"), row(2, 202, "k2")],
        [payment(70000001, "k2")],
        [BEFORE],
    )
    check = invariants.retries_reuse_idempotency_key(obs)
    assert not check.passed
    assert any("no body fingerprint" in r for r in [invariants.describe_row(r) for r in check.requests])


def test_a_key_reused_for_a_different_request_fails():
    obs = observe([row(1, 202, "k1", fp="fp-bill"), row(2, 409, "k1", fp="fp-rent")], [payment(1, "k1")])
    check = invariants.retries_reuse_idempotency_key(obs)
    assert not check.passed and any("reused for 2 different request bodies" in d for d in check.details)


def test_distinct_payments_under_distinct_keys_pass():
    obs = observe([row(1, 202, "k1"), row(2, 202, "k2", fp="fp-rent")], [payment(1, "k1"), payment(2, "k2", "RENT")])
    assert invariants.retries_reuse_idempotency_key(obs).passed


# -- payments_reach_status ---------------------------------------------------------------------------


def test_every_payment_settled_passes():
    obs = observe(payments=[payment(1, "k1"), payment(2, "k2", "RENT")])
    assert invariants.payments_reach_status(obs, status="SETTLED").passed


def test_a_payment_stuck_in_processing_fails_with_its_history():
    obs = observe(
        payments=[
            payment(1, "k1", status="PROCESSING", history=[{"new_status": "PROCESSING"}]),
            payment(2, "k2", "RENT"),
        ]
    )
    check = invariants.payments_reach_status(obs, status="SETTLED")
    assert not check.passed and "expected SETTLED" in check.details[0] and "PROCESSING" in check.details[0]


def test_a_boleto_never_paid_fails():
    check = invariants.payments_reach_status(observe(payments=[payment(1, "k1")]), boletos=["bill", "rent"])
    assert not check.passed and "boleto 'rent' was never paid" in check.details[0]


def test_per_boleto_expected_statuses():
    obs = observe(payments=[payment(1, "k1"), payment(2, "k2", "RENT", status="ERROR")])
    assert invariants.payments_reach_status(obs, boletos={"bill": "SETTLED", "rent": "ERROR"}).passed
    assert not invariants.payments_reach_status(obs, boletos={"bill": "SETTLED", "rent": "SETTLED"}).passed


# -- retries_bounded ------------------------------------------------------------------------------------


def test_retries_within_the_limit_ending_in_2xx_pass():
    obs = observe([row(1, 504, "k1"), row(2, 504, "k1"), row(3, 202, "k1")])
    check = invariants.retries_bounded(obs, max_attempts=3)
    assert check.passed and "at most 3 attempt(s)" in check.summary


def test_too_many_attempts_fail():
    obs = observe([row(i, 504 if i < 6 else 202, "k1") for i in range(1, 7)])
    check = invariants.retries_bounded(obs, max_attempts=5)
    assert not check.passed and "6 attempts (limit 5)" in check.details[0]


def test_a_client_that_gave_up_leaves_the_request_unanswered():
    check = invariants.retries_bounded(observe([row(1, 504, "k1"), row(2, 503, "k1")]))
    assert not check.passed and "last attempt got 503" in check.details[0]
    assert [r["seq"] for r in check.requests] == [1, 2]


def test_a_documented_final_4xx_is_an_answer():
    journal = [row(1, 201, None, op="register", path="/r"), row(2, 409, None, op="register", path="/r")]
    assert not invariants.retries_bounded(observe(journal)).passed
    assert invariants.retries_bounded(observe(journal), final_statuses=[409]).passed


# -- faults_fired, contract_clean ----------------------------------------------------------------------


def test_a_fault_that_never_fired_fails_the_drill():
    idle = {**LOST, "id": "fault-idle", "matched": 0, "fired": 0}
    check = invariants.faults_fired(observe(faults=[LOST, idle]))
    assert not check.passed and any(d.startswith("fault-idle") for d in check.details)
    assert invariants.faults_fired(observe(faults=[LOST])).passed


def test_a_response_that_broke_the_contract_fails():
    bad = {**row(1, 500, "k1"), "verdict": "response_invalid", "detail": "amount: not a number"}
    check = invariants.contract_clean(observe([row(2, 202, "k2"), bad]))
    assert not check.passed and "amount: not a number" in check.details[0]
    assert invariants.contract_clean(observe([row(2, 202, "k2")])).passed


def test_evaluate_runs_only_what_is_turned_on():
    checks = invariants.evaluate(
        observe(faults=[LOST]), {"faults_fired": {}, "contract_clean": None, "retries_bounded": {"max_attempts": 2}}
    )
    assert [c.name for c in checks] == ["faults_fired", "retries_bounded"]


# -- plain assertions -------------------------------------------------------------------------------


def test_count_assertions_filter_the_drill_window():
    obs = observe(
        [row(1, 504, "k1", fault="fault-lost"), row(2, 202, "k1")],
        [payment(1, "k1")],
        [LOST],
        events=[{"seq": 1, "event_type": "authorization-event-1", "domain": "authorization", "org_id": "TN-1"}],
    )
    journal = {
        "operation_id": PAY,
        "method": None,
        "path": None,
        "status": None,
        "verdict": None,
        "fault": True,
        "tenant": "acme",
        "idempotency_key": None,
    }
    assert count_check({"kind": "journal", "journal": journal, "count": {"min": 1, "max": 1}}, obs).passed
    events = {"type": "authorization-event", "domain": None, "tenant": None}
    assert count_check({"kind": "events", "events": events, "count": {"min": 1, "max": 1}}, obs).passed
    payments = {"tenant": None, "account": "acme", "boleto": "rent", "status": None}
    failed = count_check({"kind": "payments", "payments": payments, "count": {"min": 1, "max": None}}, obs)
    assert not failed.passed and "expected at least 1" in failed.summary


def test_response_expectations():
    exchange = Exchange(
        "pay",
        "POST",
        PAY_PATH,
        status=202,
        headers={"X-Idempotency-Replayed": "true"},
        body={"authorization_id": 7, "items": [{"status": "SETTLED"}]},
    )
    assert (
        response_problems(
            exchange,
            {
                "status": [202],
                "headers": {"x-idempotency-replayed": "true"},
                "body": {"authorization_id": 7, "items.0.status": "SETTLED"},
            },
        )
        == []
    )
    problems = response_problems(exchange, {"status": [409], "body": {"code": "EIP0065"}})
    assert problems == ["status 202, expected 409", "body.code is missing, expected 'EIP0065'"]
    lost = Exchange("pay", "POST", PAY_PATH, error="connection", error_text="reset")
    assert response_problems(lost, {"error": "connection"}) == []
    assert "no answer" in response_problems(lost, {"status": [202]})[0]
