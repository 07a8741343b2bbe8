"""The harness forgives a use_after_free failure only on a resource created again after its
DELETE; a read that succeeds after a DELETE nothing undid is still reported."""

from __future__ import annotations

from types import SimpleNamespace

from schemathesis.openapi.checks import UseAfterFree

from pismo_sandbox.contracts import hooks

ACCOUNT_PATH = "/intl-bankaccounts/v2/accounts/7/bank-accounts"
RESOURCE = ACCOUNT_PATH + "/BRAZIL"
REGISTER = "post-intl-bank-accounts-v2-accounts-account-id-bank-accounts-brazil"


class _Run:
    """One run's documents and state, as the harness binds them."""

    def __init__(self):
        self.raw_schema: dict = {}
        self.state = hooks.RunState(seed=1)
        hooks.bind(SimpleNamespace(raw_schema=self.raw_schema), self.state)

    def case(self, method: str, path: str, operation_id: str):
        operation = SimpleNamespace(
            schema=SimpleNamespace(raw_schema=self.raw_schema),
            definition=SimpleNamespace(raw={"operationId": operation_id}),
            method=method,
        )
        return SimpleNamespace(method=method, formatted_path=path, operation=operation)

    def answered(self, method: str, path: str, operation_id: str, status: int):
        hooks.after_call(
            None, self.case(method, path, operation_id), SimpleNamespace(status_code=status, content=b"{}")
        )

    def read_after_delete_is_reported(self) -> bool:
        failure = UseAfterFree(
            operation=f"GET {RESOURCE}",
            message="deleted resource still available",
            free=f"DELETE {RESOURCE}",
            usage=f"GET {RESOURCE}",
        )
        case = self.case("GET", RESOURCE, "get-bank-account")
        return hooks.filter_failure(None, failure, case, SimpleNamespace(status_code=200))

    def close(self):
        hooks.unbind(SimpleNamespace(raw_schema=self.raw_schema))


def test_a_read_that_succeeds_after_a_delete_is_reported():
    run = _Run()
    try:
        run.answered("DELETE", RESOURCE, "delete-bank-account", 204)
        assert run.read_after_delete_is_reported() is True
        assert run.state.forgiven == 0
    finally:
        run.close()


def test_a_read_after_the_resource_was_registered_again_is_forgiven_and_counted():
    run = _Run()
    try:
        run.answered("DELETE", RESOURCE, "delete-bank-account", 204)
        run.answered("POST", ACCOUNT_PATH + "/brazil", REGISTER, 201)
        assert run.read_after_delete_is_reported() is False
        assert run.state.forgiven == 1
    finally:
        run.close()


def test_a_delete_after_the_re_registration_makes_the_read_a_failure_again():
    run = _Run()
    try:
        run.answered("POST", ACCOUNT_PATH + "/brazil", REGISTER, 201)
        run.answered("DELETE", RESOURCE, "delete-bank-account", 204)
        assert run.read_after_delete_is_reported() is True
    finally:
        run.close()


def test_a_refused_registration_or_one_for_another_account_does_not_forgive_the_read():
    run = _Run()
    try:
        run.answered("DELETE", RESOURCE, "delete-bank-account", 204)
        run.answered("POST", ACCOUNT_PATH + "/brazil", REGISTER, 400)
        run.answered("POST", "/intl-bankaccounts/v2/accounts/8/bank-accounts/brazil", REGISTER, 201)
        assert run.read_after_delete_is_reported() is True
        assert run.state.forgiven == 0
    finally:
        run.close()


def test_a_use_after_free_outside_any_run_is_reported():
    failure = UseAfterFree(operation="GET /x", message="m", free="DELETE /x", usage="GET /x")
    case = SimpleNamespace(
        formatted_path="/x",
        operation=SimpleNamespace(schema=SimpleNamespace(raw_schema={}), definition=SimpleNamespace(raw={})),
    )
    assert hooks.filter_failure(None, failure, case, None) is True
