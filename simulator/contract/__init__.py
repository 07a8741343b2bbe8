"""The contract: requests and responses checked against the bundled OpenAPI documents, and
failures answered with the error each operation documents.

The documents themselves (sources, loading, overlays) live with the files, in
``pismo_sandbox.contracts.bundle``. This package holds the checking, one job a module:
``operations`` (lookup, matching, request and response checks), ``error_map`` (failure to
documented error) and ``integers`` (the integer rules the schemas cannot state). The names below
are the ones the gateway uses.
"""

from pismo_sandbox.contract.operations import CheckedRequest, Contract, Operation, load_contract
from pismo_sandbox.contracts.bundle import ADMIN, NONE, TOKEN

__all__ = ["ADMIN", "NONE", "TOKEN", "CheckedRequest", "Contract", "Operation", "load_contract"]
