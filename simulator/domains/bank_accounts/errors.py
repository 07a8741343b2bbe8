"""Error codes of the bank-account operations, as seed 002 documents them (plus the one
sandbox-authored code, EIBA0029, that the read-back and removal specs add)."""

from pismo_sandbox.errors import SandboxError


class ValidationFailed(SandboxError):
    status, code, message = 400, "EIBA0009", "Validation error"


class AccountMismatch(SandboxError):
    status, code, message = 403, "EIBA0007", "Invalid account ID header: 'x-account-id'"


class AccountNotFound(SandboxError):
    status, code, message = 404, "EIBA0010", "Account not found"


class AccountNotNormal(SandboxError):
    status, code, message = 403, "EIBA0023", "Account status not NORMAL"


class AlreadyExists(SandboxError):
    status, code, message = 409, "EIBA0028", "IntlBankAccount - Already Exists"


class BankAccountNotFound(SandboxError):
    # Sandbox-authored (ERRATA "Sandbox-authored operations"): Pismo publishes no code for
    # "no bank account under this scheme"; this one mirrors EIBA0028's wording.
    status, code, message = 404, "EIBA0029", "IntlBankAccount - Not Found"


class HttpError(SandboxError):
    status, code, message = 500, "EIBA0005", "HTTP error"


class AccountsApiServerError(SandboxError):
    status, code, message = 500, "EIBA0011", "Accounts - API returned 5xx error"


class AccountsApiRejected(SandboxError):
    status, code, message = 400, "EIBA0012", "Accounts - API returned 4xx error"


class AccountsApiTimeout(SandboxError):
    status, code, message = 500, "EIBA0013", "Accounts - API timeout"


class DatabaseError(SandboxError):
    status, code, message = 500, "EIBA0015", "Database internal error"
