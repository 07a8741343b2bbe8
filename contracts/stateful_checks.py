"""Stateful checks of the contract harness: short scripted conversations whose answers a real
Pismo (or a faithful simulator) must remember, and a stateless mock serving the documents'
examples (Stoplight Prism's ``prism mock``, say) cannot.

Schemathesis judges each answer on its own: status, schema, headers. These checks judge answers
against what the target was told before:

- ``idempotency_key_binds_its_request``: the same ``x-idempotency-key`` with a different body is
  not accepted a second time (Pay bank slip).
- ``bank_account_registered_once``: registering the same Brazilian bank account twice is not
  answered 201 twice.
- ``bank_account_reads_back_as_registered``: a registered bank account reads back with the fields
  that were sent.
- ``pay_answer_echoes_its_request``: the Pay answer names the account, amount and slip it was asked
  to pay.
- ``pay_needs_a_validation``: a slip nobody validated is not paid.
- ``receipts_list_real_payments``: receipts filtered by an authorization id list that payment
  only, and none for an id no payment has.

Each check needs only the public API and the run's account token, so it runs against the
simulator and against any base URL alike. A check whose set-up the target refuses reports that
as its failure: a target that cannot register or pay at all is not faithful either.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pismo_sandbox.contracts.groups import SpecGroup
    from pismo_sandbox.contracts.results import HarnessResult
    from pismo_sandbox.contracts.run_state import RunState

VALIDATE = "/integrated-payments/v1/bankslips/validate"
PAY = "/integrated-payments/v1/bankslips/pay"
RECEIPTS = "/integrated-payments/v1/bankslips/receipts"
PAY_ID = "post-integrated-payments-api-v1-bankslips-pay"
REGISTER_ID = "post-intl-bank-accounts-v2-accounts-account-id-bank-accounts-brazil"
RECEIPTS_ID = "get-integrated-payments-api-v1-bankslips-receipts"
PAY_LABEL = "POST /integrated-payments/v1/bankslips/pay"
REGISTER_LABEL = "POST /intl-bankaccounts/v2/accounts/{accountId}/bank-accounts/brazil"
RECEIPTS_LABEL = "GET /integrated-payments/v1/bankslips/receipts"
NO_SUCH_AUTHORIZATION = 9_000_000_000_000_000_001  # an int64 no payment of a run reaches


class CheckFailed(Exception):
    """What the target answered that a stateful Pismo would not."""


@dataclass(frozen=True)
class StatefulCheck:
    name: str
    operation_id: str
    label: str
    title: str
    run: Callable[["Conversation"], None]


@dataclass
class Conversation:
    """The run's way to the target: ``call(method, path, body, headers) -> (status, body)`` with
    the account token; ``boleto(amount, kind)`` a fresh valid slip; the run's account id;
    ``unique(prefix)`` a reproducible unique value."""

    call: Callable
    boleto: Callable
    account_id: int
    unique: Callable[[str], str]

    def validated_pay_body(self, amount: Decimal) -> dict:
        slip = self.boleto(amount, "bank")
        status, answer = self.call("POST", VALIDATE, {"type": 1, "bar_code": slip["bar_code"]})
        if status != 200 or not isinstance(answer, dict):
            raise CheckFailed(f"Validate bank slip of a valid slip answered {status}: {_short(answer)}")
        body = {
            "account_id": self.account_id,
            "amount": answer.get("amount", float(amount)),
            "bankslip": {"type": 1, "bar_code": slip["bar_code"]},
        }
        if answer.get("external_authorization"):
            body["external_authorization"] = answer["external_authorization"]
        return body

    def pay(self, body: dict, key: str | None = None) -> tuple[int, object]:
        return self.call("POST", PAY, body, {"x-idempotency-key": key or self.unique("uuid")})


def _short(body: object) -> str:
    text = repr(body)
    return text if len(text) <= 200 else text[:197] + "..."


def _ok(status: int) -> bool:
    return 200 <= status < 300


# -- the checks --------------------------------------------------------------------------------


def _idempotency_key_binds_its_request(talk: Conversation) -> None:
    key = talk.unique("uuid")
    first_status, _ = talk.pay(talk.validated_pay_body(Decimal("21.10")), key)
    if not _ok(first_status):
        raise CheckFailed(f"the first payment under a new key answered {first_status}")
    second_status, _second = talk.pay(talk.validated_pay_body(Decimal("21.20")), key)
    if _ok(second_status):
        raise CheckFailed(
            f"the same x-idempotency-key with a different body was answered"
            f" {first_status} and then {second_status}: the key does not bind its request"
        )


def _scheme(talk: Conversation) -> dict:
    number = "1" + "".join(ch for ch in talk.unique("n") if ch.isdigit())[-9:].rjust(9, "0")
    return {
        "scheme": {
            "bank": "60701190",
            "branch": "0042",
            "account_number": number,
            "supplementary_data": {"account_type": "CACC"},
        },
        "metadata": {"nickname": talk.unique("nick")},
    }


def _register_fresh(talk: Conversation, body: dict) -> tuple[int, object]:
    path = f"/intl-bankaccounts/v2/accounts/{talk.account_id}/bank-accounts"
    talk.call("DELETE", f"{path}/BRAZIL")  # whatever an earlier phase left there
    status, answer = talk.call("POST", f"{path}/brazil", body)
    if status != 201:
        raise CheckFailed(f"registering a bank account on an account without one answered {status}: {_short(answer)}")
    return status, answer


def _bank_account_registered_once(talk: Conversation) -> None:
    body = _scheme(talk)
    _register_fresh(talk, body)
    status, _answer = talk.call("POST", f"/intl-bankaccounts/v2/accounts/{talk.account_id}/bank-accounts/brazil", body)
    if status == 201:
        raise CheckFailed(
            "the same Brazilian bank account was registered twice, 201 both times"
            " (one bank account per account and scheme: 409 EIBA0028)"
        )


def _bank_account_reads_back_as_registered(talk: Conversation) -> None:
    body = _scheme(talk)
    _register_fresh(talk, body)
    status, answer = talk.call("GET", f"/intl-bankaccounts/v2/accounts/{talk.account_id}/bank-accounts/BRAZIL")
    if status != 200 or not isinstance(answer, dict):
        raise CheckFailed(f"reading a bank account just registered answered {status}: {_short(answer)}")
    sent, got = body["scheme"], answer.get("scheme") or {}
    differ = [name for name in ("bank", "branch", "account_number") if got.get(name) != sent[name]]
    if (got.get("supplementary_data") or {}).get("account_type") != sent["supplementary_data"]["account_type"]:
        differ.append("supplementary_data.account_type")
    if answer.get("metadata") != body["metadata"]:
        differ.append("metadata")
    if answer.get("account_id") not in (None, talk.account_id):
        differ.append("account_id")
    if differ:
        raise CheckFailed(
            f"a bank account read back right after it was registered differs in"
            f" {', '.join(differ)}: sent {_short(body)}, read {_short(answer)}"
        )


def _pay_answer_echoes_its_request(talk: Conversation) -> None:
    body = talk.validated_pay_body(Decimal("33.30"))
    status, answer = talk.pay(body)
    if not _ok(status) or not isinstance(answer, dict):
        raise CheckFailed(f"paying a validated slip answered {status}: {_short(answer)}")
    differ = [
        name
        for name, want in (
            ("account_id", body["account_id"]),
            ("amount", body["amount"]),
            ("bar_code", body["bankslip"]["bar_code"]),
        )
        if name in answer and answer[name] != want
    ]
    missing = [name for name in ("account_id", "amount", "bar_code") if name not in answer]
    if differ or len(missing) == 3:
        raise CheckFailed(
            f"the Pay answer does not describe the payment asked for"
            f" (differs in {', '.join(differ) or 'nothing'}, lacks {', '.join(missing) or 'nothing'}):"
            f" sent {_short(body)}, answered {_short(answer)}"
        )


def _pay_needs_a_validation(talk: Conversation) -> None:
    slip = talk.boleto(Decimal("44.40"), "bank")
    body = {
        "account_id": talk.account_id,
        "amount": slip.get("amount") or 44.40,
        "bankslip": {"type": 1, "bar_code": slip["bar_code"]},
    }
    status, _answer = talk.pay(body)
    if _ok(status):
        raise CheckFailed(f"a slip nobody validated was paid ({status}): Pay bank slip needs Validate bank slip first")


def _receipts_list_real_payments(talk: Conversation) -> None:
    status, paid = talk.pay(talk.validated_pay_body(Decimal("55.50")))
    if not _ok(status) or not isinstance(paid, dict) or not isinstance(paid.get("authorization_id"), int):
        raise CheckFailed(f"paying a validated slip answered {status}: {_short(paid)}")
    authorization = paid["authorization_id"]
    status, listed = talk.call("GET", f"{RECEIPTS}?authorizationId={authorization}&perPage=100")
    items = listed.get("items") if isinstance(listed, dict) else None
    if status != 200 or not isinstance(items, list):
        raise CheckFailed(f"receipts of a payment just made answered {status}: {_short(listed)}")
    strangers = [
        item.get("authorization_id")
        for item in items
        if isinstance(item, dict) and item.get("authorization_id") != authorization
    ]
    if strangers or not items:
        raise CheckFailed(
            f"receipts for authorization {authorization} list"
            f" {len(items)} item(s), authorization ids {strangers or 'none of it'}"
        )
    status, listed = talk.call("GET", f"{RECEIPTS}?authorizationId={NO_SUCH_AUTHORIZATION}")
    items = listed.get("items") if isinstance(listed, dict) else None
    if status == 200 and items:
        raise CheckFailed(
            f"receipts for an authorization id no payment has list {len(items)} item(s): {_short(items[:2])}"
        )


CHECKS: tuple[StatefulCheck, ...] = (
    StatefulCheck(
        "idempotency_key_binds_its_request",
        PAY_ID,
        PAY_LABEL,
        "Same idempotency key, different body, accepted twice",
        _idempotency_key_binds_its_request,
    ),
    StatefulCheck(
        "bank_account_registered_once",
        REGISTER_ID,
        REGISTER_LABEL,
        "Same bank account registered twice",
        _bank_account_registered_once,
    ),
    StatefulCheck(
        "bank_account_reads_back_as_registered",
        REGISTER_ID,
        REGISTER_LABEL,
        "Bank account read back differs from what was registered",
        _bank_account_reads_back_as_registered,
    ),
    StatefulCheck(
        "pay_answer_echoes_its_request",
        PAY_ID,
        PAY_LABEL,
        "Pay answer does not describe its request",
        _pay_answer_echoes_its_request,
    ),
    StatefulCheck(
        "pay_needs_a_validation", PAY_ID, PAY_LABEL, "Pay accepted for a slip never validated", _pay_needs_a_validation
    ),
    StatefulCheck(
        "receipts_list_real_payments",
        RECEIPTS_ID,
        RECEIPTS_LABEL,
        "Receipts list payments that never happened",
        _receipts_list_real_payments,
    ),
)
NAMES = tuple(check.name for check in CHECKS)


def run_checks(
    talk: Conversation, operation_ids: set[str], names: set[str] | None = None
) -> list[tuple[StatefulCheck, str | None]]:
    """Run every check whose operations are under test (and named, if ``names``):
    (check, failure message or None)."""
    outcomes: list[tuple[StatefulCheck, str | None]] = []
    for check in CHECKS:
        if check.operation_id not in operation_ids or (names is not None and check.name not in names):
            continue
        try:
            check.run(talk)
            outcomes.append((check, None))
        except CheckFailed as failed:
            outcomes.append((check, str(failed)))
    return outcomes


def record(
    result: HarnessResult, state: RunState | None, groups: Iterable[SpecGroup], checks: Iterable[str] | None = None
) -> None:
    """Run the checks with the harness run's state and add their outcomes to ``result`` (a
    ``results.HarnessResult``), under the operation each one exercises."""
    from pismo_sandbox.contracts.results import Finding, OperationResult

    if state is None or state.call is None or state.account_id is None or state.boleto is None:
        return
    spec_of = {op: group.name for group in groups for op in group.operation_ids}
    talk = Conversation(call=state.call, boleto=state.boleto, account_id=state.account_id, unique=state.unique)
    names = None if checks is None else set(checks)
    for check, failure in run_checks(talk, set(spec_of), names):
        op = result.operations.get(check.label)
        if op is None:
            op = result.operations[check.label] = OperationResult(label=check.label, spec=spec_of[check.operation_id])
        op.checks[check.name] += 1
        if failure is not None:
            op.failed_checks[check.name] += 1
            op.findings.append(
                Finding(
                    operation=check.label, check=check.name, title=check.title, message=failure, phase="stateful checks"
                )
            )
