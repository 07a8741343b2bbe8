"""The journal's background writer: rows a request queues are committed in batches by a thread
of its process, off the request path, and a reader can wait until every process on the same
journal has committed what it had queued.

Read-after-answer across processes: each writer keeps three counts in a 24-byte memory-mapped
file of its own, ``<journal>.writers/<pid>.<n>`` (``n`` tells apart the writers of one process,
as when an app is built again on the same database in one process): rows queued (before the
answer leaves), rows done (committed, or given up after a failed write, which is logged), and how
many times a reader asked it to write now. ``wait_for_all`` reads every other live writer's
queued count, bumps the asked count of each one behind, then waits until its done count reaches
the queued one. A writer commits what it holds within ``DELAY`` seconds; asked, within ``LOOK``
(it looks at its asked count that often while a batch waits); its own reader has it write at
once. Files of processes that are gone are removed by the next reader.

What a crash can lose: a ``kill -9`` of a worker loses the rows it had queued and not committed,
and their access lines (gateway.journal), at most the last ``DELAY`` seconds (25 ms) of its
answers (plus a batch being written); the simulated state (another file) and every row
already committed are untouched. A normal exit (gunicorn stopping a worker, the interpreter
exiting) commits what is queued first, and writes its lines.
"""

from __future__ import annotations

import atexit
import itertools
import logging
import mmap
import os
import struct
import threading
import time
from collections.abc import Callable

from pismo_sandbox import background

log = logging.getLogger("pismo_sandbox.access")
_COUNTS = struct.Struct("<QQ")  # queued, done
_ASKED = struct.Struct("<Q")  # after the counts: bumped by readers of other processes
_SIZE = _COUNTS.size + _ASKED.size
_SERIAL = itertools.count(1)  # numbers the writers of this process


class _Marks:
    """This writer's counts, where readers can read them (and ask for a write)."""

    def __init__(self, folder: str | None):
        self.path = None
        self._map: bytearray | mmap.mmap
        if folder is None:
            self._map = bytearray(_SIZE)
            return
        os.makedirs(folder, exist_ok=True)
        # A file of its own: a second writer of this process truncating a file the first has
        # mapped would make the first's next look at it fail with SIGBUS.
        self.path = os.path.join(folder, f"{os.getpid()}.{next(_SERIAL)}")
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.ftruncate(fd, _SIZE)
            self._map = mmap.mmap(fd, _SIZE)
        finally:
            os.close(fd)

    def write(self, queued: int, done: int) -> None:
        _COUNTS.pack_into(self._map, 0, queued, done)

    def asked(self) -> int:
        """How many times readers of other processes asked for a write so far."""
        return int(_ASKED.unpack_from(self._map, _COUNTS.size)[0])

    def remove(self) -> None:
        if self.path is not None:
            try:
                os.unlink(self.path)
            except OSError:
                pass


def _pid_of(name: str) -> int | None:
    """The process a counts file belongs to (``<pid>.<n>``); None for anything else."""
    pid, dot, serial = name.partition(".")
    return int(pid) if pid.isdigit() and dot and serial.isdigit() else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _look_and_ask(path: str) -> tuple[int, int] | None:
    """The counts at ``path`` (queued, done), None if unreadable; a process behind (done short of
    queued) is asked to write what it holds now, through the same open file. (Two readers asking
    at once may count once: any change is the request.)"""
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:
        return None
    try:
        data = os.pread(fd, _SIZE, 0)
        if len(data) < _COUNTS.size:
            return None
        queued, done = _COUNTS.unpack_from(data)
        if done < queued and len(data) == _SIZE:
            asked = _ASKED.unpack_from(data, _COUNTS.size)[0]
            os.pwrite(fd, _ASKED.pack((asked + 1) % 2**64), _COUNTS.size)
        return queued, done
    except OSError:
        return None
    finally:
        os.close(fd)


def _read_counts(path: str) -> tuple[int, int] | None:
    try:
        with open(path, "rb") as f:
            data = f.read(_COUNTS.size)
    except OSError:
        return None
    return _COUNTS.unpack(data) if len(data) == _COUNTS.size else None


class BatchWriter:
    """Queues rows and commits them from a thread of this process, in batches.

    ``write(batch)`` commits a list of rows in one transaction. ``folder`` holds the processes'
    counts (None for an in-memory journal: one process, nothing to share).
    """

    # Seconds the first queued row waits for company before its batch is written. Each batch is
    # a transaction on the journal file and a wake-up of this thread, whatever its size. Served
    # pay under load (2026-12-04, the writer thread's own CPU from /proc, alternated): 5 ms cost
    # 82 to 88 us a request, 25 ms 37 to 40, 100 ms 26 to 27; credentials 48 to 55 against 27
    # to 34. 25 ms: most of the saving. A reader asks for the batch (LOOK below), so it does not
    # wait that long. Rows of two workers can reach the file out of answer order either way:
    # reads order by answer time.
    DELAY = 0.025
    LOOK = 0.005  # seconds between two looks at the asked count while a batch waits
    BATCH = 500  # rows at most per transaction
    WAIT = 5.0  # seconds a reader waits at most for other processes' rows
    IDLE = 10.0  # seconds without a row after which the thread ends (the next row starts another)

    def __init__(
        self,
        write: Callable[[list[dict]], None],
        folder: str | None,
        on_failure: Callable[[list[dict], BaseException], None],
    ):
        self._write = write
        self._folder = folder
        self._on_failure = on_failure
        self._pid = 0
        self._setup()

    def _setup(self) -> None:
        """State of this process (again after a fork: the parent's thread does not follow)."""
        self._pid = os.getpid()
        self._cond = threading.Condition(threading.Lock())
        self._queue: list[dict] = []
        self._queued = self._done = 0
        self._urgent = False
        self._asked_seen = 0  # a new counts file starts at 0
        self._marks: _Marks | None = None
        self._thread: threading.Thread | None = None

    def _start(self) -> None:
        if self._marks is None:
            self._marks = _Marks(self._folder)
            atexit.register(self.close)
        self._thread = background.start(self._run, "journal-writer")

    # -- the request path ----------------------------------------------------------------------
    def append(self, row: dict) -> None:
        if self._pid != os.getpid():
            self._setup()
        with self._cond:
            if self._thread is None:
                self._start()
            self._queue.append(row)
            self._queued += 1
            assert self._marks is not None  # _start made them
            self._marks.write(self._queued, self._done)
            if len(self._queue) == 1 or len(self._queue) >= self.BATCH:
                self._cond.notify_all()

    # -- the writer thread ---------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue:
                    if not self._cond.wait(self.IDLE) and not self._queue:
                        self._thread = None  # idle: end (an app a test built and dropped)
                        return
                self._gather()
                batch, self._queue = self._queue[: self.BATCH], self._queue[self.BATCH :]
                self._urgent = bool(self._queue) and self._urgent
            try:
                self._write(batch)
            except BaseException as error:
                self._on_failure(batch, error)
            with self._cond:
                self._done += len(batch)
                assert self._marks is not None  # _start made them before starting this thread
                self._marks.write(self._queued, self._done)
                self._cond.notify_all()

    def _gather(self) -> None:
        """Let the rows of the next requests join the batch (the condition held): up to DELAY
        seconds, until the batch is full, or until a reader asks (this process's: ``_urgent``;
        another's: the asked count, looked at every LOOK seconds)."""
        deadline = time.monotonic() + self.DELAY
        while not self._urgent and len(self._queue) < self.BATCH and not self._was_asked():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self._cond.wait(min(left, self.LOOK))

    def _was_asked(self) -> bool:
        """Whether a reader of another process asked since this was last answered (a request
        made while a batch was being written counts for the next one)."""
        assert self._marks is not None  # _start made them before starting this thread
        asked = self._marks.asked()
        if asked == self._asked_seen:
            return False
        self._asked_seen = asked
        return True

    # -- readers -------------------------------------------------------------------------------
    def flush(self, timeout: float | None = None) -> bool:
        """Commit everything this process queued so far; False if ``timeout`` ran out first."""
        if self._pid != os.getpid() or self._marks is None:
            return True
        with self._cond:
            target = self._queued
            if self._done >= target:
                return True
            self._urgent = True
            self._cond.notify_all()
            return self._cond.wait_for(lambda: self._done >= target, timeout)

    def wait_for_all(self) -> None:
        """Wait (at most WAIT seconds) until every process on this journal has committed the rows
        it had queued when the wait began: what any worker answered before is then readable."""
        deadline = time.monotonic() + self.WAIT
        self.flush(self.WAIT)
        if self._folder is None:
            return
        try:
            names = os.listdir(self._folder)
        except OSError:
            return
        own = self._marks.path if self._marks is not None else None
        pending: dict[str, tuple[int, int]] = {}  # path: (pid, queued)
        for name in names:
            pid = _pid_of(name)
            path = os.path.join(self._folder, name)
            if pid is None or path == own:
                continue
            if not _alive(pid):
                try:
                    os.unlink(path)
                except OSError:
                    pass
                continue
            counts = _look_and_ask(path)
            if counts is not None and counts[1] < counts[0]:
                pending[path] = (pid, counts[0])
        pause = 0.0005
        while pending and time.monotonic() < deadline:
            time.sleep(pause)
            pause = min(pause * 2, 0.005)
            for path, (pid, target) in list(pending.items()):
                counts = _read_counts(path)
                # done, gone, or the process restarted
                if counts is None or counts[1] >= target or counts[0] < target or not _alive(pid):
                    del pending[path]

    def close(self) -> None:
        """Commit what is queued (a normal exit), then forget this process's counts."""
        if self._pid != os.getpid() or self._marks is None:
            return
        self.flush(self.WAIT)
        if self._marks is not None:
            self._marks.remove()
