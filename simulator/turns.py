"""Pismo operations take turns in a process: one runs at a time, from the moment its request is
read until its answer is built.

CPython runs one thread's Python at a time anyway, and lets another thread in around every
SQLite call and every lock it waits for. With several request threads a worker, a bank-slip
payment of a dozen statements was interrupted as many times by other requests, and each time it
went on it found the processor's caches filled with another request's code and data. Taking
turns keeps each operation's work together: served, it cost 4 to 10% less CPU a request
(bench/README.md, "The twelfth round").

What does not take a turn: reading the request and its body, which the dispatcher does before
(a slow client holds up no one), and writing the answer, which gunicorn does after; the control
plane (``/_sandbox``, whose journal reads wait for the other workers); whatever goes Flask's way
(the dashboard, OPTIONS, HEAD); the sandbox's background threads. An operation that pauses (a
delay or timeout fault) steps aside with ``pause``, and the next operation runs meanwhile.

Nothing relies on the turns for its correctness: the store, its locks and every cache stay safe
for threads running at once, as they must for everything above that runs beside an operation.
"""

from __future__ import annotations

import threading
import time
from types import TracebackType


class Turns:
    """One operation at a time: ``with turns:`` around an operation, ``turns.pause(s)`` within."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holder = threading.local()

    def __enter__(self) -> None:
        self._lock.acquire()
        self._holder.held = True

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._holder.held = False
        self._lock.release()

    def pause(self, seconds: float) -> None:
        """Sleep; if this thread has the turn, another operation has it meanwhile."""
        if not getattr(self._holder, "held", False):
            time.sleep(seconds)
            return
        self.__exit__(None, None, None)
        try:
            time.sleep(seconds)
        finally:
            self.__enter__()


TURNS = Turns()  # the process's: its threads share one interpreter lock


def pause(seconds: float) -> None:
    """Sleep, giving up this thread's turn (if it has one) meanwhile."""
    TURNS.pause(seconds)
