"""The gunicorn settings of the served sandbox: which header names with "_" it lets through, and
that nothing else a front-end proxy could set is trusted."""

from __future__ import annotations

from pismo_sandbox.contract.operations import load_contract
from pismo_sandbox.served_http import SandboxWorker, declared_underscore_headers, header_options


def test_the_declared_underscore_headers_are_found_in_the_bundled_documents():
    assert declared_underscore_headers(load_contract().documents.values()) == ["ACCOUNT_TOKEN", "TRACKING_ID"]


def test_a_newly_declared_header_is_found_without_a_code_change():
    document = {
        "paths": {
            "/x": {
                "get": {"parameters": [{"name": "x_new_header", "in": "header"}, {"name": "page_size", "in": "query"}]}
            }
        }
    }
    assert declared_underscore_headers([document]) == ["X_NEW_HEADER"]


def test_only_the_declared_names_are_trusted_from_any_peer():
    options = header_options(load_contract().documents.values())
    assert options["forwarder_headers"] == "ACCOUNT_TOKEN,TRACKING_ID"  # no SCRIPT_NAME, PATH_INFO
    assert options["secure_scheme_headers"] == {}  # no X-Forwarded-Proto trusted
    assert options["worker_class"] is SandboxWorker
