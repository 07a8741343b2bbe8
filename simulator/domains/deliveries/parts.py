"""The collaborators event delivery is made of (store, repository, signing keys, secret box,
ids, configuration and the wall clock), built once by wiring.build and shared by the service
(service.py) and the outbox (outbox.py): the two see the same clock, whoever replaces it."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from pismo_sandbox.config import Config
from pismo_sandbox.crypto import SecretBox
from pismo_sandbox.domains.deliveries.repository import DeliveryRepository
from pismo_sandbox.domains.deliveries.signing import SigningKeys
from pismo_sandbox.ids import Ids
from pismo_sandbox.store import Store


@dataclass
class DeliveryParts:
    store: Store
    repo: DeliveryRepository
    keys: SigningKeys
    box: SecretBox
    ids: Ids
    config: Config
    wall: Callable[[], float] = field(default=time.time)  # seconds since the epoch (injectable)

    @classmethod
    def build(cls, *, config: Config, store: Store, ids: Ids, box: SecretBox) -> "DeliveryParts":
        repo = DeliveryRepository(store)
        return cls(store, repo, SigningKeys(repo, box), box, ids, config)
