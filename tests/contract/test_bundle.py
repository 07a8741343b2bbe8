"""The bundled contract itself: every document loads, vendor files are untouched, every
overlay repair is recorded in ERRATA.md and is needed, every operation has a handler."""

from __future__ import annotations

import hashlib
import json
import re

import pytest

from pismo_sandbox.contracts.bundle import SOURCES, load_document, load_overlay, parse_document, read_text
from pismo_sandbox.contract.operations import load_contract


def _sha(name: str) -> str:
    return hashlib.sha256(read_text(name).encode("utf-8")).hexdigest()


def _errata() -> str:
    return read_text("ERRATA.md")


def test_every_bundled_document_loads_and_builds_an_openapi_object():
    contract = load_contract()
    assert set(contract.documents) == {s.name for s in SOURCES}
    assert len(contract.operations) >= 5


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.name)
def test_every_served_document_is_valid_openapi(source):
    # The simulator skips this check at start-up; here it runs on each document as served
    # (overlays applied), so a broken edit fails the suite instead of slowing every start.
    from openapi_spec_validator import validate
    from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

    validate(load_document(source))
    broken = json.loads(json.dumps(load_document(source)))
    del broken["info"]  # the check can fail: a document without its required info object
    with pytest.raises(OpenAPIValidationError):
        validate(broken)


def test_vendor_documents_are_kept_byte_for_byte(vendor_hashes):
    for source in SOURCES:
        if source.vendor:
            assert _sha(source.filename) == vendor_hashes[source.filename], source.filename


@pytest.fixture
def vendor_hashes() -> dict[str, str]:
    """Recorded in ERRATA.md when the documents were extracted; an edit to a vendor file fails."""
    found = dict(re.findall(r"`([\w.-]+\.json)`\s+sha256\s+`([0-9a-f]{64})`", _errata()))
    assert {s.filename for s in SOURCES if s.vendor} <= set(found)
    return found


def test_every_overlay_patch_names_an_erratum_that_exists():
    errata_ids = set(re.findall(r"^### (E-\d\d)\b", _errata(), flags=re.M))
    for source in SOURCES:
        if not source.overlay:
            continue
        import yaml

        for patch in yaml.safe_load(read_text(source.overlay))["patches"]:
            assert patch.get("erratum") in errata_ids, patch


def test_seed_003_needs_the_raw_newline_repair():
    text = read_text("integrated-payments.v1.json")
    with pytest.raises(json.JSONDecodeError, match="control character"):
        json.loads(text)
    assert parse_document("integrated-payments.v1.json", text)["info"]["title"] == "Banking - Integrated payments"


@pytest.mark.parametrize("source", [s for s in SOURCES if s.vendor], ids=lambda s: s.name)
def test_published_servers_are_absolute_and_served_ones_are_local(source):
    published = parse_document(source.filename, read_text(source.filename))
    assert published["servers"][0]["url"].startswith("https://")
    served = load_document(source)
    assert served["servers"][0]["url"].startswith("/")


def test_seed_002_authorization_header_is_renamed():
    source = next(s for s in SOURCES if s.name == "intl-bankaccounts")
    published = parse_document(source.filename, read_text(source.filename))
    assert published["components"]["parameters"]["auth"]["name"] == "AuthorizationHeader"
    assert load_document(source)["components"]["parameters"]["auth"]["name"] == "Authorization"


def test_seed_000_account_token_header_is_optional_once_bearer_auth_is_accepted():
    source = next(s for s in SOURCES if s.name == "banking-auth")
    published = parse_document(source.filename, read_text(source.filename))
    assert published["components"]["parameters"]["acctTokenHeader"]["required"] is True
    assert published["security"] == [{"bearerAuth": []}]
    assert load_document(source)["components"]["parameters"]["acctTokenHeader"]["required"] is False


@pytest.mark.parametrize("source", [s for s in SOURCES if s.vendor], ids=lambda s: s.name)
def test_401_is_mentioned_but_not_declared_until_the_overlay_adds_it(source):
    published = parse_document(source.filename, read_text(source.filename))
    assert "401" in read_text(source.filename) or "Unauthorized" in read_text(source.filename)
    for item in published["paths"].values():
        for op in item.values():
            assert "401" not in op["responses"]
    for item in load_document(source)["paths"].values():
        for op in item.values():
            assert "401" in op["responses"]


def _example_code_mismatches(document: dict) -> set[tuple[str, str]]:
    found = set()
    for item in document["paths"].values():
        for op in item.values():
            for response in op["responses"].values():
                for media in response.get("content", {}).values():
                    for key, example in media.get("examples", {}).items():
                        code = example["value"].get("code")
                        if code != key:
                            found.add((key, code))
    return found


def test_example_codes_that_disagree_with_their_keys_are_repaired():
    published = {s.name: parse_document(s.filename, read_text(s.filename)) for s in SOURCES if s.vendor}
    assert ("EBAA0005", "BA00005") in _example_code_mismatches(published["banking-auth"])
    payments = _example_code_mismatches(published["integrated-payments"])
    assert {("EIP0023", "EPI0023"), ("EIP0065", "EIP0029"), ("EIP0019", "EIP0015"), ("EIP0051", "EIP0053")} <= payments
    for source in SOURCES:
        if source.vendor:
            assert _example_code_mismatches(load_document(source)) == set(), source.name


def test_every_operation_has_a_handler(app):
    rules = {(method, rule.rule) for rule in app.url_map.iter_rules() for method in rule.methods}
    for (method, flask_rule), op in load_contract().operations.items():
        assert (method, flask_rule) in rules, f"{op.operation_id} has no handler"


def _constrained_parameters(op, document: dict) -> bool:
    """Whether any parameter can fail validation (a bare string parameter never can)."""
    from pismo_sandbox.validation import resolve_ref

    item = document["paths"][op.path]
    for raw in item.get("parameters", []) + item[op.method.lower()].get("parameters", []):
        param = resolve_ref(document, raw)
        schema = resolve_ref(document, param.get("schema", {}))
        if (
            (param.get("required") and param["in"] != "path")
            or set(schema) - {"type", "description"}
            or schema.get("type", "string") != "string"
        ):
            return True
    return False


def _kinds_that_can_happen(op, spec: dict, document: dict) -> set[str]:
    kinds = set()
    if op.has_body:
        kinds |= {"malformed", "missing_fields", "invalid", "unsupported", "payload_too_large"}
    if _constrained_parameters(op, document):
        kinds.add("invalid_parameter")
    if op.auth != "none":
        kinds.add("unauthorized")
    if op.auth == "token":
        kinds |= {"missing_tenant", "tenant_mismatch", "missing_account", "account_mismatch"}
    return kinds


def test_every_error_an_operation_can_produce_is_declared_by_it():
    contract = load_contract()
    for op in contract.operations.values():
        spec = contract.documents[op.spec]["paths"][op.path][op.method.lower()]
        kinds = _kinds_that_can_happen(op, spec, contract.documents[op.spec])
        entries = {k: v for k, v in op.errors.entries.items() if k in kinds}
        entries.update({f"header {k}": v for k, v in op.errors.entries.get("missing_header", {}).items()})
        for kind, entry in entries.items():
            assert str(entry["status"]) in op.declared_statuses, (op.operation_id, kind)


def test_sandbox_authored_documents_say_so():
    for source in SOURCES:
        if not source.vendor:
            assert load_document(source).get("x-sandbox-authored") is True, source.name
            assert "SANDBOX-AUTHORED" in read_text(source.filename)


def test_overlays_only_touch_paths_that_exist_in_the_published_document():
    import jsonpatch

    for source in SOURCES:
        if source.overlay:
            published = parse_document(source.filename, read_text(source.filename))
            jsonpatch.apply_patch(published, load_overlay(source.overlay))  # raises if a path is wrong
