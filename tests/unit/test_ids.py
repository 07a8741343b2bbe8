"""Ids: version-4 UUIDs and hex tokens, never handed out twice, not even by a forked process;
the same sequence run after run when seeded."""

from __future__ import annotations

import os
import re
import threading
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pismo_sandbox.ids import Ids, _SystemBytes

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def test_ids_are_version_4_uuids_and_hex_tokens_of_the_size_asked():
    ids = Ids()
    assert all(UUID4.match(ids.uuid()) for _ in range(1000))
    assert [len(ids.token(n)) for n in (1, 4, 16, 32)] == [2, 8, 32, 64]
    assert re.fullmatch(r"[0-9a-f]{32}", ids.token())


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(1, 700), min_size=1, max_size=40))
def test_bytes_are_handed_out_once_across_refills(sizes):
    source = _SystemBytes(size=512)  # small buffers: many refills, and asks larger than a buffer
    handed = [source.take(n) for n in sizes]
    assert [len(chunk) for chunk in handed] == sizes
    ids = Ids(source=source)
    drawn = [ids.uuid() for _ in range(100)] + [ids.token(8) for _ in range(100)]
    assert len(set(drawn)) == len(drawn)


def test_threads_drawing_at_once_never_get_the_same_id():
    ids, drawn, start = Ids(), [], threading.Barrier(8)

    def draw() -> None:
        start.wait()
        drawn.extend(ids.uuid() for _ in range(2000))

    threads = [threading.Thread(target=draw) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(drawn) == 16000 == len(set(drawn))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="processes fork here only where the platform forks")
def test_a_forked_child_never_hands_out_its_parents_next_ids():
    ids = Ids()
    ids.uuid()  # the buffer is filled before the fork: the child inherits it
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.write(write, "\n".join(ids.uuid() for _ in range(50)).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        childs = set(pipe.read().split("\n"))
    os.waitpid(pid, 0)
    parents = {ids.uuid() for _ in range(50)}
    assert len(childs) == 50 and not childs & parents


def test_seeded_ids_repeat_run_after_run():
    first, second = Ids(seed=7), Ids(seed=7)
    assert [first.uuid(), first.token(8)] == [second.uuid(), second.token(8)]


class _Fixed(_SystemBytes):
    def __init__(self, data: bytes):
        super().__init__()
        self.data = data

    def take(self, count: int) -> bytes:
        return self.data[:count]


@given(st.binary(min_size=16, max_size=16))
def test_a_uuid_is_written_as_the_standard_library_writes_a_version_4_uuid_of_the_same_bytes(data):
    assert Ids(source=_Fixed(data)).uuid() == str(uuid.UUID(bytes=data, version=4))
