"""Error codes of Create provider credential, as seed 000 documents them."""

from pismo_sandbox.errors import SandboxError


class UnsupportedCombination(SandboxError):
    status, code = 400, "EBAA0007"

    def __init__(self, provider: str, type_: str):
        super().__init__(
            message=f"Unsupported Type: ({type_}) and Provider ({provider})",
            details=f"provider {provider} does not offer {type_} credentials",
        )


class ProviderRejected(SandboxError):
    status, code, message = 502, "EBAA0002", "Bad Gateway Error"


class ProviderTimeout(SandboxError):
    status, code, message = 504, "EBAA0003", "Gateway Timeout"


class EncryptedValueMismatch(SandboxError):
    status, code, message = 500, "EBAA0009", "Encrypted value error. Decrypt returned different value"


class DecryptFailed(SandboxError):
    status, code, message = 500, "EBAA0010", "Cryptography Decrypt error. Check logs for more details"


class SaveFailed(SandboxError):
    status, code, message = 500, "EBAA0011", "Credential Repository Save config error. Check logs for more details"


class ReadFailed(SandboxError):
    status, code, message = 500, "EBAA0012", "Credential Repository Get config error. Check logs for more details"


class BtgConfigurationMissing(SandboxError):
    status, code, message = 500, "EBAA0014", "BTG - API configuration not found"


class ProviderResponseUnreadable(SandboxError):
    status, code, message = 500, "EPIX0005", "Error unmarshalling object"
