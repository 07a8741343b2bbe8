"""Create-or-update provider credentials: support matrix, encryption at rest, token exchange.

Every stage (read, encrypt, decrypt, verify, token exchange) runs before the one write, so a
failure at any of them (documented trigger, provider rejection) leaves the previous credential, if
any, exactly as it was; the write is one statement (a new credential, or the stored one at its
next version), so two requests for the same slot never both take one version.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidTag

from pismo_sandbox.clock import Clock, isoformat
from pismo_sandbox.crypto import SecretBox
from pismo_sandbox.domains.credentials import errors, providers
from pismo_sandbox.domains.credentials.repository import CredentialRepository
from pismo_sandbox.domains.credentials.schemas import UpsertCredential
from pismo_sandbox.store import Store


def _context(tenant_id: str, provider: str, type_: str) -> str:
    """Associated data binding a ciphertext to its tenant and slot."""
    return f"banking-auth|{tenant_id}|{provider}|{type_}"


class CredentialService:
    def __init__(self, store: Store, repository: CredentialRepository, box: SecretBox, clock: Clock):
        self.store = store
        self.repo = repository
        self.box = box
        self.clock = clock

    def upsert(self, tenant_id: str, command: UpsertCredential) -> None:
        if not providers.is_supported(command.provider, command.type):
            raise errors.UnsupportedCombination(command.provider, command.type)
        trigger = providers.Trigger(command.key)
        now = self.clock.now()
        context = _context(tenant_id, command.provider, command.type)
        trigger.fire(providers.READ)
        blob = self.box.seal(command.key, context)
        trigger.fire(providers.DECRYPT)
        try:
            round_trip = self.box.open(blob, context)
        except InvalidTag:
            raise errors.DecryptFailed() from None
        trigger.fire(providers.VERIFY)
        if round_trip != command.key:
            raise errors.EncryptedValueMismatch()
        token = providers.exchange(command.provider, command.client_id, trigger, now)
        trigger.fire(providers.SAVE)
        self.repo.upsert(
            {
                "tenant_id": tenant_id,
                "provider": command.provider,
                "type": command.type,
                "client_id": command.client_id,
                "key_ciphertext": blob,
                "token_expires_at": isoformat(token.expires_at),
                "now": isoformat(now),
            }
        )

    def holds(self, tenant_id: str, command: UpsertCredential) -> bool:
        """Whether the stored credential of this provider and type is exactly this one (key and
        client id), so applying it again would change nothing."""
        context = _context(tenant_id, command.provider, command.type)
        stored = self.repo.get(self.store.db, tenant_id, command.provider, command.type)
        if stored is None or stored["client_id"] != command.client_id:
            return False
        try:
            return self.box.open(stored["key_ciphertext"], context) == command.key
        except InvalidTag:
            return False

    def list_public(self, tenant_id: str) -> list[dict]:
        return self.repo.list_public(tenant_id)
