"""Errors of the fault-rule admin API."""

from pismo_sandbox.errors import SandboxError


class InvalidFaultRule(SandboxError):
    status, code, message = 400, "SANDBOX_INVALID_FAULT_RULE", "Invalid fault rule"
