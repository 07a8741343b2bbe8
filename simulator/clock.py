"""The sandbox clock: real time shifted by an offset, or frozen; shared by every worker.

Tests and drills set, freeze and advance it through the admin API; lifecycle rules (bank
slips settling on the next business day, token expiry) read it instead of the wall clock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

from pismo_sandbox.errors import Conflict
from pismo_sandbox.runtime_settings import SettingsRepository

# The sandbox clock stays where tokens (Unix time), TTLs and clearing days can still be added.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


class ClockOutOfRange(Conflict):
    """A move that would take the clock out of its range (the admin document allows only
    instants well inside it, so what is refused is an advance from where the clock is)."""

    def __init__(self) -> None:
        super().__init__(details=f"the sandbox clock stays from {isoformat(EARLIEST)} to before {isoformat(LATEST)}")


def utcnow() -> datetime:
    return datetime.now(UTC)


def isoformat(moment: datetime) -> str:
    """RFC 3339 with milliseconds and a Z, the way Pismo's examples print instants."""
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return moment.isoformat(timespec="milliseconds")[:-6] + "Z"  # "+00:00" as "Z"


def parse_instant(text: str | datetime) -> datetime:
    """Parse an RFC 3339 instant (or take a datetime as is); a naive value is taken as UTC."""
    moment = (
        text
        if isinstance(text, datetime)
        else datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    )
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Clock(Protocol):
    def now(self) -> datetime: ...


class VirtualClock:
    """Wall time plus an offset, or a frozen instant, persisted in the settings table."""

    OFFSET, FROZEN = "clock.offset_seconds", "clock.frozen_at"

    def __init__(self, settings: SettingsRepository, wall: Callable[[], datetime] = utcnow):
        self.settings = settings
        self.wall = wall
        self._listeners: list[Callable[[datetime], None]] = []

    def subscribe(self, listener: Callable[[datetime], None]) -> None:
        """Call ``listener(now)`` after every explicit change of the clock."""
        self._listeners.append(listener)

    def now(self) -> datetime:
        frozen = self.settings.get(self.FROZEN)
        if frozen:
            return parse_instant(frozen)
        offset = self.settings.get(self.OFFSET)
        return self.wall() + timedelta(seconds=float(offset)) if offset else self.wall()

    @property
    def frozen(self) -> bool:
        return bool(self.settings.get(self.FROZEN))

    def set(self, moment: datetime, *, freeze: bool | None = None) -> datetime:
        """Jump to ``moment``; keep ticking from there unless frozen."""
        if not EARLIEST <= moment < LATEST:
            raise ClockOutOfRange()
        freeze = self.frozen if freeze is None else freeze
        if freeze:
            self.settings.put(self.FROZEN, isoformat(moment))
        else:
            self.settings.delete_prefix(self.FROZEN)
            offset = (moment - self.wall()).total_seconds()
            self.settings.put(self.OFFSET, repr(offset))
        return self._changed()

    def advance(self, seconds: float) -> datetime:
        try:
            target = self.now() + timedelta(seconds=seconds)
        except OverflowError:
            raise ClockOutOfRange() from None
        return self.set(target)

    def change(
        self,
        *,
        reset: bool = False,
        now: datetime | None = None,
        freeze: bool | None = None,
        advance_seconds: float = 0,
    ) -> datetime:
        """One admin request's changes, in order: reset, jump (or freeze/thaw), advance. The
        instants they lead to are checked first, so a refused request moves nothing."""
        start = now if now is not None else (self.wall() if reset else self.now())
        try:
            end = start + timedelta(seconds=advance_seconds)
        except OverflowError:
            raise ClockOutOfRange() from None
        if not (EARLIEST <= start < LATEST and EARLIEST <= end < LATEST):
            raise ClockOutOfRange()
        if reset:
            self.reset()
        if now is not None:
            self.set(now, freeze=freeze)
        elif freeze is not None:
            self.freeze() if freeze else self.thaw()
        if advance_seconds:
            self.advance(advance_seconds)
        return self.now()

    def freeze(self) -> datetime:
        return self.set(self.now(), freeze=True)

    def thaw(self) -> datetime:
        return self.set(self.now(), freeze=False)

    def reset(self) -> datetime:
        """Back to wall time, ticking."""
        self.settings.delete_prefix("clock.")
        return self._changed()

    def _changed(self) -> datetime:
        now = self.now()
        for listener in self._listeners:
            listener(now)
        return now
