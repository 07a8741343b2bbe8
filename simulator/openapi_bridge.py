"""What the contract takes from openapi-core: a document's OpenAPI object, the request and
response as openapi-core reads them, and its request errors.

Imported only when openapi-core is first needed (``contract.CoreApi``): it is the fallback
behind the compiled validators, and importing it is about half of start-up. A served worker
loads it in the background once it is serving (``Contract.warm``).
"""

from __future__ import annotations

from openapi_core import Config, OpenAPI
from openapi_core.contrib.flask import FlaskOpenAPIRequest, FlaskOpenAPIResponse
from openapi_core.deserializing.media_types.exceptions import MediaTypeDeserializeError
from openapi_core.validation.request.exceptions import (
    InvalidParameter,
    InvalidRequestBody,
    MissingRequestBodyError,
    MissingRequiredParameter,
    RequestBodyValidationError,
)

__all__ = [
    "FlaskOpenAPIResponse",
    "InvalidParameter",
    "InvalidRequestBody",
    "MediaTypeDeserializeError",
    "MissingRequestBodyError",
    "MissingRequiredParameter",
    "Request",
    "RequestBodyValidationError",
    "RequestLine",
    "build_api",
]

# The bundled documents are checked against the OpenAPI meta-schema by the test suite
# (tests/contract/test_bundle.py), not again at every start-up.
UNCHECKED = Config(spec_validator_cls=None)


def build_api(document: dict) -> OpenAPI:
    return OpenAPI.from_dict(document, config=UNCHECKED)


class Request(FlaskOpenAPIRequest):
    """The request as openapi-core sees it: HEAD is the documented GET without a body."""

    @property
    def method(self) -> str:
        method = self.request.method.lower()
        return "get" if method == "head" else method


class RequestLine(Request):
    """The request as response validation needs it: method, path and parameters, no body
    (the body may be over the size limit, and it plays no part in checking a response)."""

    @property
    def body(self) -> None:
        return None
