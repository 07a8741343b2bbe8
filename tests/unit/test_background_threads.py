"""The sandbox's background threads are daemons named for the operating system as well as for
Python (Linux keeps the name in /proc/self/task/<id>/comm), and a name the kernel would cut is
refused."""

from __future__ import annotations

import pathlib
import threading

import pytest

from pismo_sandbox import background


def test_a_background_thread_carries_its_name_for_the_system():
    seen: dict[str, object] = {}

    def report() -> None:
        seen["comm"] = pathlib.Path(f"/proc/self/task/{threading.get_native_id()}/comm").read_text().strip()
        seen["python"] = threading.current_thread().name
        seen["daemon"] = threading.current_thread().daemon

    background.start(report, "journal-writer").join(10)
    assert seen == {"comm": "journal-writer", "python": "journal-writer", "daemon": True}


def test_a_name_the_kernel_would_cut_is_refused():
    with pytest.raises(ValueError, match="at most 15 characters"):
        background.start(lambda: None, "contract-warm-up")
