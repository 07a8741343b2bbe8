"""Errors of server login (sandbox-authored codes; see contracts/openapi/passport.yaml)."""

from pismo_sandbox.errors import SandboxError


class MissingSecret(SandboxError):
    status, code, message = 400, "INVALID_PAYLOAD", "Invalid payload. Required fields: [server_secret]"


class UnknownAccount(SandboxError):
    status, code, message = 404, "ACCOUNT_NOT_FOUND", "Account not found"
