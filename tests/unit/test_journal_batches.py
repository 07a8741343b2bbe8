"""The journal's writer threads wait for a batch to fill, and a reader in another process does not
wait that long: it asks each process behind to write what it holds now."""

from __future__ import annotations

import multiprocessing
import os
import pathlib

import pytest

from pismo_sandbox.gateway.journal_writer import BatchWriter

FORK = multiprocessing.get_context("fork")


def _process_holding_a_row(folder: str, out: str, delay: float, held, stop) -> None:
    """Another worker: one row queued, its batch waiting ``delay`` seconds for company."""
    BatchWriter.DELAY = delay  # this process only

    def write(batch: list[dict]) -> None:
        with open(out, "a") as file:
            file.write("".join(f"{row['n']}\n" for row in batch))

    writer = BatchWriter(write, folder, lambda batch, error: None)
    writer.append({"n": "answered by the other worker"})
    held.set()
    stop.wait(60)


@pytest.fixture
def other_worker(tmp_path: pathlib.Path):
    folder, out = str(tmp_path / "journal.db.writers"), tmp_path / "rows.txt"
    held, stop = FORK.Event(), FORK.Event()
    process = FORK.Process(target=_process_holding_a_row, args=(folder, str(out), 600.0, held, stop))
    process.start()
    try:
        assert held.wait(30), "the other process did not queue its row"
        yield folder, out
    finally:
        stop.set()
        process.join(30)


def test_a_reader_has_another_process_write_the_batch_it_is_holding(other_worker):
    folder, out = other_worker
    reader = BatchWriter(lambda batch: None, folder, lambda batch, error: None)
    reader.WAIT = 10.0  # far less than the other process's 600 s batch: only asking gets the row
    assert not out.exists()  # still held, as it would be for 600 s
    reader.wait_for_all()
    assert out.read_text() == "answered by the other worker\n"


class _Holding(BatchWriter):
    DELAY = 600.0  # holds its batch until a reader asks


def test_two_writers_of_one_process_keep_their_own_counts_and_a_reader_of_one_has_the_other_write(tmp_path):
    # An app built again on the same database in one process (a test, the Python API) has a
    # writer of its own. Sharing one counts file, the second truncated the file the first had
    # mapped (SIGBUS in the first's thread) and its reader skipped the first's rows.
    folder, written = str(tmp_path / "journal.db.writers"), []
    first = _Holding(written.extend, folder, lambda batch, error: None)
    second = BatchWriter(written.extend, folder, lambda batch, error: None)
    first.append({"n": "answered through the first app"})
    second.append({"n": "answered through the second app"})
    assert len(os.listdir(folder)) == 2
    second.WAIT = 10.0  # far less than the first's 600 s batch: only asking gets its row
    second.wait_for_all()
    assert {"n": "answered through the first app"} in written
    assert {"n": "answered through the second app"} in written
