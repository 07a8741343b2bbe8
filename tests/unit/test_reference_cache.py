"""ReferenceCache: an entry serves only while the change count is the one read before loading it."""

from __future__ import annotations

from pismo_sandbox.change_counters import ChangeCounter, ReferenceCache


def test_an_entry_is_loaded_once_until_the_count_moves(tmp_path):
    counter = ChangeCounter(str(tmp_path / "state.db"), "reference")
    cache, loads = ReferenceCache(counter), []

    def load() -> str:
        loads.append(1)
        return f"value {len(loads)}"

    assert [cache.get("k", load), cache.get("k", load)] == ["value 1", "value 1"]
    counter.bump()
    assert cache.get("k", load) == "value 2"


def test_a_bump_by_another_process_is_seen_through_the_shared_file(tmp_path):
    path = str(tmp_path / "state.db")
    mine, theirs = ChangeCounter(path, "reference"), ChangeCounter(path, "reference")  # two mappings
    cache = ReferenceCache(mine)
    assert cache.get("k", lambda: "old") == "old"
    theirs.bump()
    assert cache.get("k", lambda: "new") == "new"


def test_the_cache_starts_again_empty_past_its_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(ReferenceCache, "LIMIT", 3)
    cache = ReferenceCache(ChangeCounter(str(tmp_path / "state.db"), "reference"))
    for key in range(3):
        cache.get(key, lambda: "cached")
    cache.get("one more", lambda: "cached")
    assert cache.get(0, lambda: "loaded again") == "loaded again"
