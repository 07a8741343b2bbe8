"""Errors of the tenancy domain (admin API codes; Pismo APIs map their own)."""

from pismo_sandbox.errors import Conflict, NotFound, SandboxError, Unauthorized


class TenantNotFound(NotFound):
    code, message = "SANDBOX_TENANT_NOT_FOUND", "Tenant not found"


class TenantExists(Conflict):
    code, message = "SANDBOX_TENANT_EXISTS", "Tenant already exists"


class AccountNotFound(NotFound):
    code, message = "SANDBOX_ACCOUNT_NOT_FOUND", "Account not found"


class AccountExists(Conflict):
    code, message = "SANDBOX_ACCOUNT_EXISTS", "Account already exists"


class InvalidServerCredentials(Unauthorized):
    code, message = "INVALID_CREDENTIALS", "Invalid server key or secret"


class InvalidAccountStatus(SandboxError):
    code, message = "SANDBOX_INVALID_REQUEST", "Invalid account status"
