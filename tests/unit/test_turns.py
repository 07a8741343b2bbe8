"""Operations take turns: one at a time, and one that pauses lets the next one run meanwhile."""

from __future__ import annotations

import gc
import os
import signal
import threading

from pismo_sandbox.turns import Turns

WAIT = 30  # seconds: only a broken implementation waits this long


def _in_thread(target) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


def test_an_operation_waits_until_the_one_running_is_done():
    turns = Turns()
    order: list[str] = []
    second_waiting = threading.Event()

    def second() -> None:
        second_waiting.set()
        with turns:
            order.append("second")

    with turns:
        thread = _in_thread(second)
        assert second_waiting.wait(WAIT)
        thread.join(0.2)  # it is still waiting for the turn
        assert thread.is_alive()
        order.append("first done")
    thread.join(WAIT)
    assert order == ["first done", "second"]


def test_a_pause_lets_another_operation_run_and_keeps_the_turn_after():
    turns = Turns()
    order: list[str] = []
    paused = threading.Event()
    third_waiting = threading.Event()

    def second() -> None:
        assert paused.wait(WAIT)
        with turns:  # runs during the first one's pause
            order.append("second")

    def third() -> None:
        third_waiting.set()
        with turns:
            order.append("third")

    second_thread = _in_thread(second)
    with turns:
        order.append("first")
        paused.set()
        turns.pause(0.3)
        third_thread = _in_thread(third)
        assert third_waiting.wait(WAIT)
        third_thread.join(0.2)  # the turn is the first one's again: the third waits
        assert third_thread.is_alive()
        order.append("first done")
    second_thread.join(WAIT)
    third_thread.join(WAIT)
    assert order == ["first", "second", "first done", "third"]


def test_a_pause_outside_a_turn_only_sleeps():
    turns = Turns()
    holder_in = threading.Event()
    release = threading.Event()

    def holder() -> None:
        with turns:
            holder_in.set()
            release.wait(WAIT)

    thread = _in_thread(holder)
    assert holder_in.wait(WAIT)
    turns.pause(0.01)  # gives back nothing it does not have (the other thread keeps its turn)
    entered = threading.Event()
    _in_thread(lambda: (turns.__enter__(), entered.set(), turns.__exit__(None, None, None)))
    assert not entered.wait(0.2)
    release.set()
    thread.join(WAIT)
    assert entered.wait(WAIT)


def test_an_operation_that_raises_gives_up_its_turn():
    turns = Turns()
    try:
        with turns:
            raise ValueError("refused")
    except ValueError:
        pass
    done = threading.Event()
    _in_thread(lambda: (turns.__enter__(), done.set(), turns.__exit__(None, None, None)))
    assert done.wait(WAIT)


def test_a_forked_child_has_a_free_turn_of_its_own_and_leaves_its_parents_alone():
    turns = Turns()
    with turns:  # the parent has the turn when it forks
        pid = os.fork()
        if pid == 0:  # the child: its turn is free at once, and not the parent's
            signal.alarm(10)  # a child stuck waiting for its parent's turn dies of it
            code = 1
            try:
                with turns:
                    code = 0
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    second = threading.Event()
    _in_thread(lambda: (turns.__enter__(), second.set(), turns.__exit__(None, None, None)))
    assert second.wait(WAIT)  # the parent gave its turn back, and the next one took it


def test_a_dropped_turns_object_closes_its_pipe():
    def pipe_of(turns: Turns) -> list[tuple[int, int]]:
        return [(end, os.fstat(end).st_ino) for end in turns._pipe]

    made = [Turns() for _ in range(10)]
    ends = [end for turns in made for end in pipe_of(turns)]
    del made
    gc.collect()

    def still_open(end: int, inode: int) -> bool:  # the same number may be reused by another file
        try:
            return os.fstat(end).st_ino == inode
        except OSError:
            return False

    assert not [end for end in ends if still_open(*end)]
