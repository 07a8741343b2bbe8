"""Schemathesis hooks of the contract harness (contracts/harness.py), and where its custom checks
and preparers come from.

One module, shared by `pismo-sandbox contract` and the test suite, so that both run exactly the
same checks on exactly the same data.

Custom checks (registered with ``@schemathesis.check``; they run next to Schemathesis' own):

- ``response_has_x_cid``: every response carries a non-empty ``x-cid`` header (Pismo's gateway
  attaches one to every answer; the sandbox's gateway must too).
- ``documented_error_envelope``: a 4xx/5xx body is the documented envelope ``{code, message,
  details?}`` (strings, nothing else), and its ``code`` is one the operation documents for that
  status: an example key or example ``code`` under that response, or an ``x-sandbox-errors``
  entry (overlay or sandbox-authored document) with that status.
- ``idempotent_replay_returns_same_body``: an operation that takes ``x-idempotency-key``
  (Pay bank slip), answered 2xx, is sent again unchanged; the replay must answer the same status
  and the same body.

Checks that judge an answer against what the target was told before (an idempotency key bound
to its request, a bank account read back as sent, ...) live in ``stateful_checks.py``; they run
once per run, after Schemathesis.

State preparation (a ``before_call`` hook): Pismo operations need state that random data cannot
conjure (an existing NORMAL account, a real ISPB, a boleto with valid check digits, a validate
before a pay). Just before a request goes out, the preparer of its operation fills in exactly
those values, in the parts of the case generated as *valid* (positive mode); parts generated
invalid are sent as generated. Each preparer says why it exists; the list is in contracts/README.md
("What the harness steers, and why"). Preparers repair, they do not overwrite: a value that
already satisfies the rule (for instance one an OpenAPI link carried over from the previous
response in the stateful phase) is kept.
"""

from __future__ import annotations

import json
from typing import Any
from collections.abc import Callable

import schemathesis
from schemathesis import Case, HookContext, Response
from schemathesis.core.failures import Failure

from pismo_sandbox.contracts.checks import CUSTOM_CHECKS, documented_codes
from pismo_sandbox.contracts.preparers import PAY_ID, PREPARERS, VALIDATE_ID, canonical_integers, json_post
from pismo_sandbox.contracts.run_state import RunState, bind, state_for, unbind

__all__ = ["CUSTOM_CHECKS", "RECREATES", "RunState", "bind", "documented_codes", "state_for", "unbind"]


# -- re-creations Schemathesis cannot see -------------------------------------------------------
#
# use_after_free forgives a read after a DELETE when a POST on a *parent* path succeeded in between
# (the resource was created again). Register bank account creates again what Delete bank account
# removed (ERRATA S-01: a removed bank account can be registered again), but its path
# (.../bank-accounts/brazil) is not a parent of the resource (.../bank-accounts/{schemeName}).
# Creating operation -> the resource path a success (re)creates.
RECREATES: dict[str, Callable] = {
    "post-intl-bank-accounts-v2-accounts-account-id-bank-accounts-brazil": lambda case: (
        case.formatted_path.rsplit("/", 1)[0] + "/BRAZIL"
    ),
}


@schemathesis.hook
def filter_failure(context: HookContext, failure: Failure, case: Case, response: Response) -> bool:
    """Keep every failure, except a use_after_free on a resource that the last successful write
    to it created again (a RECREATES operation, after the DELETE): that read is right to succeed."""
    if type(failure).__name__ != "UseAfterFree":
        return True
    state = state_for(case)
    if state is None or state.writes.get(case.formatted_path) != "created":
        return True
    with state._lock:
        state.forgiven += 1
    return False


@schemathesis.hook
def after_call(context: HookContext, case: Case, response: Response) -> None:
    """Remember what later requests depend on: each slip Validate bank slip accepted for the
    run's account (Pay needs it; a payment uses it up), and the last successful write to each
    resource a RECREATES operation creates."""
    state = state_for(case)
    if state is None or not 200 <= response.status_code < 300:
        return
    operation_id = case.operation.definition.raw.get("operationId")
    if operation_id in RECREATES:
        state.writes[RECREATES[operation_id](case)] = "created"
    elif case.method.upper() == "DELETE":
        state.writes[case.formatted_path] = "deleted"
    if operation_id not in (VALIDATE_ID, PAY_ID):
        return
    try:
        body = json.loads(response.content or b"null")
    except ValueError:
        return
    if not isinstance(body, dict) or not isinstance(body.get("bar_code"), str):
        return
    if operation_id == VALIDATE_ID:
        state.validations[body["bar_code"]] = body
    else:  # a payment uses its validation up
        state.validations.pop(body["bar_code"], None)


@schemathesis.hook
def before_call(context: HookContext, case: Case, kwargs: dict[str, Any]) -> None:
    """Prepare a positive case's state just before it is sent (once per case: a replay made by
    a check sends the case exactly as it was)."""
    state = state_for(case)
    if state is None:
        return
    key = case.id  # ids are unique per case; a replay or retry of the same case keeps its id
    with state._lock:
        if key in state._prepared:
            return
        state._prepared.add(key)
    canonical_integers(case)
    json_post(case)
    prepare = PREPARERS.get(case.operation.definition.raw.get("operationId", ""))
    if prepare is None or case.method.upper() != case.operation.method.upper():
        return
    prepare(case, state)
