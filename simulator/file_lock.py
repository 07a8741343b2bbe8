"""An exclusive lock on a file shared by processes (flock), waited for at most a given time and
taken as soon as it is free.

flock has no timeout, and polling it with LOCK_NB adds up to a poll step to every contended
wait. Here, a lock that is free is taken at once; a contended one is waited for by a helper
thread of this process in a blocking flock, which hands the lock to the writer waiting for it
the moment the kernel grants it. A writer that gives up leaves; if the helper gets the lock after
that, it hands it to the next writer waiting, or lets go of it.

One waiter at a time per object (callers serialise their threads first, as Store does). Not
shared across a fork: build a new one in the child.
"""

from __future__ import annotations

import fcntl
import os
import threading

from pismo_sandbox import background


class FileLock:
    def __init__(self, path: str):
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        self._cond = threading.Condition()
        self._wanted = False  # a writer is waiting for the helper
        self._granted = False  # the helper took the lock for that writer
        self._pending = False  # the helper is in a blocking flock
        self._closed = False
        self._helper: threading.Thread | None = None

    def acquire(self, timeout: float) -> bool:
        """Take the lock within ``timeout`` seconds; False when it stayed held."""
        # With no writer waiting the helper stays idle, so _pending cannot turn True under us;
        # while it is True the helper is in flock on this same open file: never race it.
        if not self._pending:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                pass
        with self._cond:
            if self._helper is None:
                self._helper = background.start(self._wait_for_lock, "writer-lock")
            self._wanted = True
            self._cond.notify_all()
            granted = self._cond.wait_for(lambda: self._granted, timeout)
            self._wanted = self._granted = False
            return granted

    def release(self) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            if not self._pending:
                os.close(self.fd)

    def _wait_for_lock(self) -> None:
        while True:
            with self._cond:
                # (after a grant, wait until that writer has taken it: _granted falls back)
                self._cond.wait_for(lambda: (self._wanted and not self._granted) or self._closed)
                if self._closed:
                    return
                self._pending = True
            fcntl.flock(self.fd, fcntl.LOCK_EX)
            with self._cond:
                self._pending = False
                if self._wanted and not self._closed:
                    self._granted = True
                    self._cond.notify_all()
                    continue
                fcntl.flock(self.fd, fcntl.LOCK_UN)  # its writer gave up meanwhile
                if self._closed:
                    os.close(self.fd)
                    return
