"""The contract harness against the in-process simulator: every bundled spec, every phase,
positive and negative data, every check, a fixed seed, 5 examples per operation and phase
(2,277 cases over 47 operations, 1,984 of them the coverage phase's probes, which do not depend on
that number; 10 examples made 2,571 cases for about a fifth more CPU, 20 made 3,120). That is
enough for every assertion below:
each operation reached, answered 2xx, sent positive and negative data, every check run, every
link followed. `make contract` runs the deeper default, 100 examples. Zero failures is the bar: a failure here is a simulator bug to fix (or an
erratum to record), never a check to relax."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from pismo_sandbox.contracts import harness, hooks
from pismo_sandbox.contracts.bundle import ADMIN, SOURCES
from pismo_sandbox.contract.operations import load_contract

EXAMPLES = 5

# One process runs the harness for every test here (xdist_group keeps them together).
pytestmark = pytest.mark.xdist_group("contract-run")
SEED = harness.DEFAULT_SEED


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    junit = str(tmp_path_factory.mktemp("contract") / "contract.xml")
    result = harness.run(examples=EXAMPLES, seed=SEED, junit=junit)
    result.junit_path = junit
    return result


def _has_inputs(operation_id: str) -> bool:
    """Whether an operation takes anything (parameters or a body) that data can vary in."""
    op = load_contract().by_id[operation_id]
    spec = load_contract().documents[op.spec]
    item = spec["paths"][op.path]
    return bool(
        item.get("parameters")
        or item[op.method.lower()].get("parameters")
        or item[op.method.lower()].get("requestBody")
    )


def test_the_simulator_honours_its_contract_with_zero_failures(run):
    assert run.ok, run.summary()


def test_every_bundled_operation_is_exercised(run):
    tested = {label.split(" ", 1)[1] for label in run.operations}
    for op in load_contract().operations.values():
        assert op.url_path in tested, f"{op.method} {op.url_path} was not tested"


def test_every_operation_with_inputs_gets_at_least_the_examples_asked_for(run):
    # An operation without parameters or body (GET /_sandbox/health) has one possible request:
    # Hypothesis stops once it has sent it, and the coverage phase probes it for the rest.
    contract = load_contract()
    by_label = {f"{op.method} {op.url_path}": op for op in contract.operations.values()}
    for label, result in run.operations.items():
        op = by_label[label]
        if _has_inputs(op.operation_id):
            assert result.cases >= EXAMPLES, f"{label}: {result.cases} cases ({dict(result.by_phase)})"


def test_positive_and_negative_data_are_both_sent(run):
    for label, result in run.operations.items():
        if result.cases >= EXAMPLES:
            assert result.by_mode["positive"] and result.by_mode["negative"], (label, dict(result.by_mode))


def test_valid_data_reaches_the_success_path_of_every_pismo_operation(run):
    """The preparers in contracts/hooks.py exist so that positive cases are meaningful: each
    Pismo operation must have answered 2xx, not only refused."""
    pismo = {f"{op.method} {op.url_path}" for op in load_contract().operations.values() if op.auth != ADMIN}
    for label in pismo:
        statuses = run.operations[label].statuses
        assert any(200 <= status < 300 for status in statuses), (label, dict(statuses))


def test_every_check_runs_including_the_custom_ones(run):
    ran = {name for result in run.operations.values() for name in result.checks}
    expected = set(harness.BUILTIN_CHECKS) | set(hooks.CUSTOM_CHECKS)
    # use_after_free and ensure_resource_availability only run in the stateful phase, on links.
    assert expected <= ran, expected - ran


def test_linked_operations_are_tested_statefully(run):
    applied = {name for group in run.groups for name in group.links}
    assert {
        "GetRegisteredBankAccount",
        "DeleteRegisteredBankAccount",
        "PayValidatedSlip",
        "ReceiptOfPayment",
    } <= applied
    for label in (
        "POST /integrated-payments/v1/bankslips/pay",
        "GET /intl-bankaccounts/v2/accounts/{accountId}/bank-accounts/{schemeName}",
    ):
        assert run.operations[label].by_phase["stateful"] > 0, label


def test_an_idempotent_pay_is_replayed(run):
    pay = run.operations["POST /integrated-payments/v1/bankslips/pay"]
    assert pay.statuses[202] > 0 and pay.checks["idempotent_replay_returns_same_body"] >= pay.statuses[202]


def test_the_junit_report_lists_every_operation(run):
    root = ET.parse(run.junit_path).getroot()
    cases = root.findall(".//testcase")
    assert {case.get("name") for case in cases} == set(run.operations)
    assert root.get("failures") == "0"
    assert {suite.get("name") for suite in root.findall("testsuite")} <= {s.name for s in SOURCES}
