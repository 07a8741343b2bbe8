"""GET /_sandbox/openapi: the documents the sandbox enforces, as it enforces them (overlays
applied), so a tool can read exactly what requests and responses are validated against."""

from __future__ import annotations

import json

from pismo_sandbox.app import create_app
from pismo_sandbox.config import Config
from pismo_sandbox.contracts.bundle import SOURCES, load_document, parse_document, read_text


def test_the_index_lists_every_bundled_document_with_its_operations(client):
    response = client.get("/_sandbox/openapi")
    assert response.status_code == 200
    items = {item["name"]: item for item in response.json["items"]}
    assert set(items) == {source.name for source in SOURCES}
    pay = items["integrated-payments"]
    assert pay["base_path"] == "/integrated-payments" and pay["authored_by"] == "pismo"
    assert pay["overlay"] == "integrated-payments.v1.overlay.yaml"
    assert "post-integrated-payments-api-v1-bankslips-pay" in pay["operations"]
    assert items["sandbox-admin"]["authored_by"] == "sandbox" and items["sandbox-admin"]["overlay"] is None
    assert {"sandbox-list-documents", "sandbox-get-document"} <= set(items["sandbox-admin"]["operations"])


def test_each_document_is_served_with_its_overlay_applied(client):
    for item in client.get("/_sandbox/openapi").json["items"]:
        response = client.get(item["url"])
        assert response.status_code == 200 and response.mimetype == "application/json"
        source = next(s for s in SOURCES if s.name == item["name"])
        assert response.json == json.loads(json.dumps(load_document(source), default=str))
        if source.overlay:  # the published text alone is not what is enforced
            assert response.json != json.loads(
                json.dumps(parse_document(source.filename, read_text(source.filename)), default=str)
            )


def test_an_operation_added_by_the_served_admin_document_is_the_one_answering(client):
    admin = client.get("/_sandbox/openapi/sandbox-admin").json
    assert admin["paths"]["/openapi/{name}"]["get"]["operationId"] == "sandbox-get-document"
    assert client.get("/_sandbox/journal", query_string={"operation_id": "sandbox-get-document"}).json["items"]


def test_an_unknown_document_is_404_in_the_documented_envelope(client):
    response = client.get("/_sandbox/openapi/no-such-api")
    assert response.status_code == 404
    assert response.json["code"] == "SANDBOX_NOT_FOUND" and "GET /_sandbox/openapi" in response.json["details"]


def test_the_documents_need_the_admin_token_when_one_is_set(tmp_path):
    client = create_app(Config(db_path=str(tmp_path / "s.db"), admin_token="adm")).test_client()
    assert client.get("/_sandbox/openapi").status_code == 401
    assert client.get("/_sandbox/openapi", headers={"Authorization": "Bearer adm"}).status_code == 200
