"""The sandbox's own background threads (the journal writer, event delivery, the writer-lock
helper, the contract warm-up): started as daemons and named for the operating system as well as
for Python, so `top -H`, `ps -T` and `make bench` tell them apart from the server's request
threads.

Linux keeps a thread's name in ``/proc/self/task/<id>/comm`` (at most 15 characters) and lets
the process write it; elsewhere the thread keeps its Python name only."""

from __future__ import annotations

import threading
from collections.abc import Callable

NAME_LIMIT = 15  # characters the kernel keeps


def start(target: Callable[[], object], name: str) -> threading.Thread:
    """A daemon thread running ``target``, called ``name`` (at most NAME_LIMIT characters)."""
    if len(name) > NAME_LIMIT:
        raise ValueError(f"a thread name the kernel keeps has at most {NAME_LIMIT} characters: {name!r}")

    def run() -> None:
        _name_for_the_system(name)
        target()

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    return thread


def _name_for_the_system(name: str) -> None:
    try:
        with open(f"/proc/self/task/{threading.get_native_id()}/comm", "w") as comm:
            comm.write(name)
    except OSError:  # not Linux, or /proc not mounted: the Python name is all there is
        pass
