"""The fault engine: which rule matches a request, and whether its schedule fires now.

Rules are first-match in creation order; a rule whose `times` is used up no longer matches.
Counting happens in one BEGIN IMMEDIATE transaction, so with several workers the n-th matching
request is the n-th everywhere. A probability draw depends only on (seed, n): the same seed and
the same request sequence give the same faults, run after run.
"""

from __future__ import annotations

import fnmatch
import math
import random
from dataclasses import dataclass
from typing import Protocol

from marshmallow import ValidationError

from pismo_sandbox.clock import Clock, isoformat
from pismo_sandbox.faults.errors import InvalidFaultRule
from pismo_sandbox.faults.repository import FaultRepository
from pismo_sandbox.faults.rules import Action, FaultRule, Match, Schedule, dump_rule, load_rule, validate_rule
from pismo_sandbox.ids import Ids
from pismo_sandbox.runtime_settings import SettingsRepository
from pismo_sandbox.store import Store


@dataclass(frozen=True)
class RequestFacts:
    """What a rule can match on."""

    operation_id: str | None
    method: str
    path: str
    tenant_id: str | None
    account_id: int | None


@dataclass(frozen=True)
class Decision:
    rule_id: str
    rule: FaultRule
    nth: int  # this request is the rule's n-th match
    delay_ms: int  # drawn once per decision, for delay and timeout actions


def matches(match: Match, facts: RequestFacts) -> bool:
    if match.operation_id is not None and match.operation_id != facts.operation_id:
        return False
    if match.method is not None and match.method != facts.method:
        return False
    if match.path is not None and not (match.path == facts.path or fnmatch.fnmatchcase(facts.path, match.path)):
        return False
    if match.tenant_id is not None and match.tenant_id != facts.tenant_id:
        return False
    if match.account_id is not None and match.account_id != facts.account_id:
        return False
    return True


class Scheduled(Protocol):
    """A rule with a schedule: a request fault rule or a delivery fault rule."""

    @property
    def schedule(self) -> Schedule: ...


def draw(seed: int, n: int, salt: str = "fire") -> float:
    """A number in [0, 1) that depends only on (seed, n, salt)."""
    return random.Random(f"{seed}:{n}:{salt}").random()


def fires(rule: Scheduled, n: int, fired_so_far: int) -> bool:
    schedule = rule.schedule
    if n < schedule.nth:
        return False
    if schedule.times is not None and fired_so_far >= schedule.times:
        return False
    if schedule.probability is not None:
        return draw(schedule.seed, n) < schedule.probability
    return True


def delay_for(action: Action, seed: int, n: int) -> int:
    """Milliseconds to hold, from the action's distribution (deterministic per seed and n)."""
    if action.type == "timeout":
        return action.ms or 0
    if action.type != "delay":
        return 0
    if action.distribution == "uniform":
        assert action.min_ms is not None and action.max_ms is not None  # the rule schema requires them
        return round(action.min_ms + draw(seed, n, "delay") * (action.max_ms - action.min_ms))
    if action.distribution == "lognormal":
        assert action.median_ms is not None and action.sigma is not None and action.cap_ms is not None
        u = min(max(draw(seed, n, "delay"), 1e-12), 1 - 1e-12)
        z = _normal_quantile(u)
        return min(round(action.median_ms * math.exp(action.sigma * z)), action.cap_ms)
    return action.ms or 0


def _normal_quantile(p: float) -> float:
    from statistics import NormalDist

    return NormalDist().inv_cdf(p)


class FaultEngine:
    VERSION = "faults.version"

    def __init__(self, store: Store, repository: FaultRepository, clock: Clock, ids: Ids, settings: SettingsRepository):
        self.store = store
        self.repo = repository
        self.clock = clock
        self.ids = ids
        self.settings = settings
        self._cache: tuple[tuple[str, str], list[tuple[str, FaultRule]]] | None = None
        self._parsed: dict[str, FaultRule] = {}  # rules never change once stored

    def _live_rules(self) -> list[tuple[str, FaultRule]]:
        """(id, rule) of every rule not yet spent, in order; cached until a rule is added,
        removed or spent, or the sandbox is reset."""
        version = self.settings.version(self.VERSION)
        if self._cache is None or self._cache[0] != version:
            live = []
            for row in self.repo.live():
                rule = self._parsed.get(row["id"])
                if rule is None:
                    rule = self._parsed[row["id"]] = load_rule(row["rule"])
                live.append((row["id"], rule))
            self._cache = (version, live)
        return self._cache[1]

    # -- management ----------------------------------------------------------------------------
    def add(self, data: dict) -> dict:
        try:
            rule = validate_rule(data)
        except ValidationError as error:
            raise InvalidFaultRule(details=_flatten(error.messages)) from None
        rule_id = f"fault-{self.ids.uuid()[:8]}"
        with self.store.transaction() as db:
            self.repo.insert(db, rule_id, dump_rule(rule), isoformat(self.clock.now()))
            self.settings.bump(db, self.VERSION)
        return self._stored(rule_id)

    def replace_all(self, rules: list[dict]) -> list[dict]:
        """Validate every rule first, then swap them in at once (used by --faults FILE)."""
        parsed = [dump_rule(validate_rule(r)) for r in rules]
        ids = []
        with self.store.transaction() as db:
            self.repo.delete_all(db)
            self.settings.bump(db, self.VERSION)
            for rule in parsed:
                rule_id = f"fault-{self.ids.uuid()[:8]}"
                self.repo.insert(db, rule_id, rule, isoformat(self.clock.now()))
                ids.append(rule_id)
        return [self._stored(i) for i in ids]

    def list(self) -> list[dict]:
        return [_public(r) for r in self.repo.all()]

    def get(self, rule_id: str) -> dict | None:
        row = self.repo.get(rule_id)
        return _public(row) if row else None

    def _stored(self, rule_id: str) -> dict:
        """A rule just stored here (only a later delete removes it)."""
        rule = self.get(rule_id)
        assert rule is not None, rule_id
        return rule

    def delete(self, rule_id: str) -> bool:
        with self.store.transaction() as db:
            self.settings.bump(db, self.VERSION)
            return self.repo.delete(rule_id, db)

    def clear(self) -> int:
        with self.store.transaction() as db:
            self.settings.bump(db, self.VERSION)
            return self.repo.delete_all(db)

    # -- the hot path ----------------------------------------------------------------------------
    def decide(self, facts: RequestFacts) -> Decision | None:
        """Count this request against the first live matching rule; the decision if it fires."""
        # The cached rules first: most requests match none and take no write lock.
        candidates = [(rule_id, rule) for rule_id, rule in self._live_rules() if matches(rule.match, facts)]
        if not candidates:
            return None
        with self.store.transaction() as db:
            for rule_id, rule in candidates:
                row = self.repo.get(rule_id, db)  # counters re-read under the write lock: exact
                if row is None or (rule.schedule.times is not None and row["fired"] >= rule.schedule.times):
                    continue  # removed or spent meanwhile (by another worker)
                n = row["matched"] + 1
                fire = fires(rule, n, row["fired"])
                self.repo.count(db, rule_id, fire)
                if fire and rule.schedule.times is not None and row["fired"] + 1 >= rule.schedule.times:
                    self.settings.bump(db, self.VERSION)  # now spent: every worker drops it
                if not fire:
                    return None
                return Decision(rule_id, rule, n, delay_for(rule.action, rule.schedule.seed, n))
        return None


def _flatten(messages: object, prefix: str = "") -> str:
    """marshmallow's nested messages as "action.status: ..." text."""
    if isinstance(messages, dict):
        return "; ".join(_flatten(v, f"{prefix}{k}." if k != "_schema" else prefix) for k, v in messages.items())
    if isinstance(messages, list):
        return "; ".join(
            f"{prefix.rstrip('.') or 'rule'}: {m}" if isinstance(m, str) else _flatten(m, prefix) for m in messages
        )
    return f"{prefix.rstrip('.')}: {messages}"


def _public(row: dict) -> dict:
    return {
        "id": row["id"],
        **row["rule"],
        "matched": row["matched"],
        "fired": row["fired"],
        "created_at": row["created_at"],
    }
