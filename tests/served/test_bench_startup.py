"""`make bench` times start-up over several fresh starts of the simulator, each served as
`make run` serves it and stopped again before the next."""

from __future__ import annotations

import pytest
import requests

from bench import run


def test_each_start_is_timed_to_its_first_answer_on_a_database_of_its_own(tmp_path, monkeypatch):
    started = []
    real_start = run.Server.start

    def spy(server, health):
        started.append(server)
        return real_start(server, health)

    monkeypatch.setattr(run.Server, "start", spy)
    times = run.startup_times(tmp_path, 2)
    assert len(times) == 2 and all(t > 0 for t in times)  # (a start that takes too long raises)
    assert [s.argv[s.argv.index("--db") + 1] for s in started] == [
        str(tmp_path / "startup-0.db"),
        str(tmp_path / "startup-1.db"),
    ]
    assert (tmp_path / "startup-0.db").exists() and (tmp_path / "startup-1.db").exists()
    for server in started:  # stopped before the next start: nothing answers on its port any more
        assert server.process.poll() is not None
        with pytest.raises(requests.ConnectionError):
            requests.get(server.url + "/_sandbox/health", timeout=1)
