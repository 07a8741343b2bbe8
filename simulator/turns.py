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

The turn is a byte in a pipe of the process: taking it reads the byte (waiting, without the
interpreter lock, while another operation has it), giving it back writes it. A thread lock would
do the same, but its release wakes the next thread while still holding the interpreter lock, and
the woken thread, if it runs first on the same core, only waits for that lock; ``os.write``
lets go of the interpreter lock around the system call that wakes it. Served, the pipe cost 3 to
6% less CPU a request than the thread lock (bench/README.md, "The twelfth round"). A forked child
makes a pipe of its own as it starts.

Nothing relies on the turns for its correctness: the store, its locks and every cache stay safe
for threads running at once, as they must for everything above that runs beside an operation.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from types import TracebackType

TOKEN = b"t"


class Turns:
    """One operation at a time: ``with turns:`` around an operation, ``turns.pause(s)`` within."""

    def __init__(self) -> None:
        self._holder = threading.local()
        self._pipe: list[int] = []  # its read end and its write end
        self._open()
        weakref.finalize(self, _close, self._pipe).atexit = False  # at exit the system closes it
        this = weakref.ref(self)
        if hasattr(os, "register_at_fork"):  # where processes fork (not on Windows)
            os.register_at_fork(after_in_child=lambda: _renew(this))

    def _open(self) -> None:
        """A pipe holding the turn's token, in place of the one it had (if any)."""
        _close(self._pipe)
        read, write = os.pipe()
        os.write(write, TOKEN)
        self._pipe[:] = [read, write]

    def __enter__(self) -> None:
        os.read(self._pipe[0], 1)
        self._holder.held = True

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._holder.held = False
        os.write(self._pipe[1], TOKEN)

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


def _renew(turns: weakref.ref[Turns]) -> None:
    """In a forked child (only the forking thread runs): a pipe of its own, the turn free."""
    this = turns()
    if this is not None:
        this._holder = threading.local()
        this._open()  # the inherited ends are closed first: they are the parent's pipe


def _close(pipe: list[int]) -> None:
    for end in pipe:
        try:
            os.close(end)
        except OSError:
            pass
    pipe.clear()


TURNS = Turns()  # the process's: its threads share one interpreter lock


def pause(seconds: float) -> None:
    """Sleep, giving up this thread's turn (if it has one) meanwhile."""
    TURNS.pause(seconds)
