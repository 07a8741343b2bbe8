"""The compiled request check answers "not sure" (None), never fails, when an operation's
request body has no JSON schema to check against: openapi-core then decides."""

from __future__ import annotations

from flask import Flask, request

from pismo_sandbox.validation import CompiledOperation

DOCUMENT = {
    "openapi": "3.0.3",
    "paths": {
        "/things": {
            "post": {
                "operationId": "createThing",
                "requestBody": {"required": False},  # no content: nothing the compiled check can use
                "responses": {"204": {"description": "made"}},
            }
        }
    },
}


def test_a_json_body_without_a_declared_schema_is_left_to_openapi_core() -> None:
    compiled = CompiledOperation(DOCUMENT, "/things", "post")
    assert compiled.has_body and compiled.modelled
    with Flask(__name__).test_request_context("/things", method="POST", json={"name": "x"}):
        assert compiled.check_request(request) is None


def test_a_request_without_a_body_still_conforms_when_the_body_is_optional() -> None:
    compiled = CompiledOperation(DOCUMENT, "/things", "post")
    with Flask(__name__).test_request_context("/things", method="POST"):
        assert compiled.check_request(request) == ({}, {}, {}, None)
