"""FileLock: exclusive between processes, taken the moment it is free, given up after the bound
without leaving the lock held by the helper that kept waiting."""

from __future__ import annotations

import multiprocessing
import threading

from pismo_sandbox.file_lock import FileLock


def _count(lock_path: str, counter: str, times: int) -> None:
    lock = FileLock(lock_path)
    for _ in range(times):
        assert lock.acquire(10)
        try:
            with open(counter, "r+") as handle:
                value = int(handle.read() or 0)
                handle.seek(0)
                handle.write(str(value + 1))
                handle.truncate()
        finally:
            lock.release()


def test_processes_never_hold_it_together(tmp_path):
    counter = tmp_path / "counter"
    counter.write_text("0")
    ctx = multiprocessing.get_context("fork")
    workers = [ctx.Process(target=_count, args=(str(tmp_path / "x.lock"), str(counter), 400)) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    assert counter.read_text() == "1200"  # no increment lost: never two holders at once


def test_a_writer_that_gave_up_leaves_the_lock_free_for_others(tmp_path):
    path = str(tmp_path / "x.lock")
    holder, quitter, other = FileLock(path), FileLock(path), FileLock(path)  # three open files
    assert holder.acquire(1)
    assert not quitter.acquire(0.2)  # its helper keeps waiting in flock
    holder.release()
    assert other.acquire(10)  # the helper got the lock for nobody and let it go
    other.release()
    assert quitter.acquire(10)
    quitter.release()


def test_the_lock_a_helper_gets_goes_to_the_next_writer_waiting(tmp_path):
    path = str(tmp_path / "x.lock")
    holder, waiter = FileLock(path), FileLock(path)
    assert holder.acquire(1)
    assert not waiter.acquire(0.2)
    got, started = [], threading.Event()

    def wait():
        started.set()
        got.append(waiter.acquire(10))

    thread = threading.Thread(target=wait)
    thread.start()
    assert started.wait(5)
    holder.release()
    thread.join(15)
    assert got == [True]
    assert not holder.acquire(0.2)  # the waiter holds it now
    waiter.release()
    assert holder.acquire(10)
