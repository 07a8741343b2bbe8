"""The state one contract run prepared on its target (tenant, account, validated slips, writes),
bound to the documents under test so that every hook and check of the run can reach it."""

from __future__ import annotations

import itertools
import threading
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from collections.abc import Callable

from schemathesis import BaseSchema, Case


@dataclass
class RunState:
    """What one harness run prepared on its target, reachable from every case of its schemas.

    ``call(method, path, json)`` sends a request to the target with the run's account token
    (used to validate a slip before paying it); ``boleto(amount, kind)`` returns a fresh valid
    slip (``{"bar_code", "digitable_line", "amount", ...}``).
    """

    account_id: int | None = None
    tenant_id: str | None = None
    call: Callable[..., tuple[int, dict]] | None = None
    boleto: Callable[[Decimal, str], dict] | None = None
    seed: int = 0
    # bar code -> the body Validate bank slip answered for it (this run's account)
    validations: dict = field(default_factory=dict)
    # resource path -> "created" / "deleted": the last successful write (see RECREATES)
    writes: dict = field(default_factory=dict)
    forgiven: int = 0  # use_after_free failures dropped because the resource was created again
    _counter: Any = field(default_factory=itertools.count)
    _prepared: set = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def next_int(self) -> int:
        with self._lock:
            return next(self._counter)

    def unique(self, prefix: str) -> str:
        """A reproducible unique value (seed + a counter): idempotency keys, external ids."""
        with self._lock:
            n = next(self._counter)
        return (
            str(uuid.UUID(int=(self.seed << 64 | n) & (2**128 - 1), version=4))
            if prefix == "uuid"
            else f"{prefix}-{self.seed}-{n}"
        )


# Run states by run id; a document under test names its run in ``x-pismo-harness-run`` (the
# raw document travels with every clone Schemathesis makes of a schema).
_STATES: dict[str, RunState] = {}
RUN_KEY = "x-pismo-harness-run"


def bind(schema: BaseSchema, state: RunState) -> None:
    """Make ``state`` the run state of every case generated from ``schema``."""
    run_id = schema.raw_schema.setdefault(RUN_KEY, uuid.uuid4().hex)
    _STATES[run_id] = state


def unbind(schema: BaseSchema) -> None:
    _STATES.pop(schema.raw_schema.get(RUN_KEY, ""), None)


def state_for(case: Case) -> RunState | None:
    return _STATES.get(case.operation.schema.raw_schema.get(RUN_KEY, ""))
