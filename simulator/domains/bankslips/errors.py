"""Error codes of the bank-slip operations, with the messages seed 003 publishes (verbatim,
typos included: clients may match on them).

The upstream errors (accounts, bank accounts, P2P, banking gateway, databases) are reachable
through the trigger catalogue in ``triggers.py``; the others through ordinary mistakes.
"""

from pismo_sandbox.errors import SandboxError


class ValidationFailed(SandboxError):
    status, code, message = 400, "EIP0008", "Validation error"


class AccountNotFound(SandboxError):
    status, code, message = 400, "EIP0012", "Account not found"


class AccountsApi4xx(SandboxError):
    status, code, message = 400, "EIP0013", "Accounts - API returned 4xx error"


class IntlBankAccountsApi4xx(SandboxError):
    status, code, message = 400, "EIP0017", "IntlBankAccounts - API returned 4xx error"


class BankingGateway4xx(SandboxError):
    status, code, message = 400, "EIP0023", "Banking gateway API error - API returned 4xx error"


class AccountMismatch(SandboxError):
    status, code, message = 403, "EIP0030", "Entity's account ID does not match {x-account-id} header"


class ProviderConflict(SandboxError):
    status, code, message = 409, "EIP0065", "BankingGatewayAPI returned 409 provider error"


class HttpRequestError(SandboxError):
    status, code, message = 500, "EIP0004", "HTTP request error"


class InternalError(SandboxError):
    status, code, message = 500, "EIP0007", "Internal error"


class AccountsTimeout(SandboxError):
    status, code, message = 500, "EIP0011", "Accounts API timeout error"


class IntlBankAccountsTimeout(SandboxError):
    status, code, message = 500, "EIP0015", "IntlBankAccounts API timeout error"


class P2pTimeout(SandboxError):
    status, code, message = 500, "EIP0019", "P2p - API timeout error"


class BankingGatewayTimeout(SandboxError):
    status, code, message = 500, "EIP0022", "BankingGatewayAPI API timeout error"


class TransactionDatabaseError(SandboxError):
    status, code, message = 500, "EIP0028", "Transacation database error"


class BankSlipDatabaseError(SandboxError):
    status, code, message = 500, "EIP0041", "Bank slip database error"


class ScheduleConciliationError(SandboxError):
    status, code, message = 500, "EIP0051", "Schedule conciliation error"


class IntegrityMessageError(SandboxError):
    status, code, message = 500, "EIP0053", "Send integrity message error"


class P2pUnmarshalError(SandboxError):
    status, code, message = 500, "EIP0069", "P2P API - Failed to unmarshal error response body"


class BankingGateway5xx(SandboxError):
    status, code, message = 502, "EIP0024", "BankingGatewayAPI - API returned 5xx error"


class ApiTimeout(SandboxError):
    status, code, message = 504, "EIP0002", "API request timeout"


# -- admin API (sandbox codes, like the rest of /_sandbox) ---------------------------------------


class InvalidAdminRequest(SandboxError):
    status, code, message = 400, "SANDBOX_INVALID_REQUEST", "Invalid request"
