"""The harness's own parts, without running Schemathesis: documents under test, links, tokens,
documented codes, the CLI's exit status."""

from __future__ import annotations

from click.testing import CliRunner

from pismo_sandbox.contracts import harness, hooks
from pismo_sandbox.contracts.groups import build_groups, merge_documents, select_sources
from pismo_sandbox.contracts.target import Credentials, TokenSource
from pismo_sandbox.cli import main
from pismo_sandbox.contracts.bundle import SOURCES


def _sources(*names):
    return [s for s in SOURCES if s.name in names]


def test_specs_sharing_a_base_path_are_merged_with_their_own_error_maps_and_security():
    [group] = build_groups(_sources("intl-bankaccounts", "intl-bankaccounts-read"))
    assert group.base_path == "/intl-bankaccounts"
    assert [s.name for s in group.sources] == ["intl-bankaccounts", "intl-bankaccounts-read"]
    paths = group.document["paths"]
    assert set(paths) == {
        "/v2/accounts/{accountId}/bank-accounts/brazil",
        "/v2/accounts/{accountId}/bank-accounts/{schemeName}",
    }
    for item in paths.values():
        for operation in item.values():
            assert operation["x-sandbox-errors"]["missing_account"]["code"] == "EIBA0007"
            assert operation["security"]
    assert "x-sandbox-errors" not in group.document and "security" not in group.document


def test_colliding_components_are_renamed_and_their_refs_follow():
    first = {
        "openapi": "3.1.0",
        "paths": {
            "/a": {
                "get": {
                    "operationId": "a",
                    "responses": {
                        "200": {
                            "description": "",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/X"}}},
                        }
                    },
                }
            }
        },
        "components": {"schemas": {"X": {"type": "string"}}},
    }
    second = {
        "openapi": "3.1.0",
        "paths": {
            "/b": {
                "get": {
                    "operationId": "b",
                    "responses": {
                        "200": {
                            "description": "",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/X"}}},
                        }
                    },
                }
            }
        },
        "components": {"schemas": {"X": {"type": "integer"}}},
    }
    merged = merge_documents([first, second], ["first", "second"])
    assert merged["components"]["schemas"] == {"X": {"type": "string"}, "X.second": {"type": "integer"}}
    schema = merged["paths"]["/b"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/X.second"}


def test_against_a_base_url_the_host_changes_and_the_base_path_stays():
    groups = build_groups(_sources("banking-auth", "integrated-payments"), "https://sandbox.example/")
    assert {g.document["servers"][0]["url"] for g in groups} == {
        "https://sandbox.example",
        "https://sandbox.example/integrated-payments",
    }


def test_links_join_operations_of_merged_documents_and_unbundled_ones_are_reported():
    [group] = build_groups(
        _sources("integrated-payments", "integrated-payments-validate", "integrated-payments-receipts")
    )
    assert {"PayValidatedSlip", "ReceiptOfPayment"} <= set(group.links)
    validate = group.document["paths"]["/v1/bankslips/validate"]["post"]
    assert (
        validate["responses"]["200"]["links"]["PayValidatedSlip"]["operationId"]
        == "post-integrated-payments-api-v1-bankslips-pay"
    )
    [alone] = build_groups(_sources("integrated-payments"))
    assert any("PayValidatedSlip" in skipped for skipped in alone.links_skipped)


def test_the_admin_api_runs_last_and_is_left_out_against_a_base_url_by_default():
    assert select_sources(None, remote=False)[-1].auth == "admin"
    assert all(s.auth != "admin" for s in select_sources(None, remote=True))


class _LoginTarget:
    def __init__(self, lifetime):
        self.lifetime, self.calls = lifetime, 0

    def request(self, method, path, json_body=None, headers=None):
        self.calls += 1
        return 200, {}, {"token": f"t{self.calls}", "expires_in": self.lifetime}


def test_tokens_are_refreshed_before_they_expire():
    now = [0.0]
    target = _LoginTarget(600)
    tokens = TokenSource(target, Credentials(server_key="k", server_secret="s", account_id=1), clock=lambda: now[0])
    assert tokens.token() == "t1"
    now[0] = 470.0
    assert tokens.token() == "t1"
    now[0] = 481.0  # a fifth of the lifetime before expiry
    assert tokens.token() == "t2" and tokens.logins == 2


def test_a_given_token_is_used_as_is():
    target = _LoginTarget(600)
    tokens = TokenSource(target, Credentials(token="given"))
    assert tokens.token() == "given" and target.calls == 0


def test_documented_codes_come_from_examples_and_the_error_map():
    [group] = build_groups(_sources("banking-auth"))
    operation = group.document["paths"]["/banking-auth/v1/credentials"]["post"]
    assert hooks.documented_codes(group.document, operation, 400) == {"EBAA0004", "EBAA0005", "EBAA0007"}
    assert hooks.documented_codes(group.document, operation, 401) == {"UNAUTHORIZED"}
    assert "EBAA0014" in hooks.documented_codes(group.document, operation, 500)


def test_the_cli_exits_1_on_failures_and_prints_them(monkeypatch):
    result = harness.HarnessResult(target="t", seed=1, examples=1)
    op = result.operations["POST /x"] = harness.OperationResult(label="POST /x", spec="s", cases=1)
    op.findings.append(
        harness.Finding(
            operation="POST /x",
            check="not_a_server_error",
            title="Server error",
            message="500",
            status_code=500,
            reproduce="curl -X POST http://x/x",
        )
    )
    monkeypatch.setattr(harness, "run", lambda **kwargs: result)
    completed = CliRunner().invoke(main, ["contract", "--spec", "passport"])
    assert completed.exit_code == 1
    assert "not_a_server_error" in completed.output and "curl -X POST" in completed.output
