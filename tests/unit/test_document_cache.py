"""The cache of the documents as served (PISMO_SANDBOX_CACHE_DIR): a process reads what an earlier
one built instead of parsing again, gets exactly the parsed documents, never an entry built from
other files, and loads whatever state the cache directory is in."""

from __future__ import annotations

import marshal
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pismo_sandbox.contracts import bundle, document_cache
from pismo_sandbox.contracts.bundle import SOURCES, load_document

BUILD = bundle.build_document  # parsing, whatever a test patches
PASSPORT = next(source for source in SOURCES if source.name == "passport")
BANKING_AUTH = next(source for source in SOURCES if source.name == "banking-auth")


def _parsed(source) -> dict:
    """The document as parsing alone makes it."""
    published = (bundle.spec_dir() / source.filename).read_bytes()
    overlay = (bundle.spec_dir() / source.overlay).read_bytes() if source.overlay else b""
    return BUILD(source, published, overlay)


def _entries(directory: Path) -> list[Path]:
    return sorted(directory.glob(f"*{document_cache.SUFFIX}")) if directory.is_dir() else []


def _no_parsing(*_args, **_kwargs):
    raise AssertionError("parsed although the cache holds the document")


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv(document_cache.ENV_VAR, str(directory))
    return directory


def test_a_fresh_process_reads_the_documents_an_earlier_one_parsed(cache):
    parsed = {source.name: _parsed(source) for source in SOURCES}
    assert {source.name: load_document(source) for source in SOURCES} == parsed  # parsed, then stored
    assert len(_entries(cache)) == len(SOURCES)

    program = (
        "import marshal, sys\n"
        "from pismo_sandbox.contracts import bundle\n"
        "def refuse(*args): raise AssertionError('parsed')\n"
        "bundle.build_document = refuse\n"
        "sys.stdout.buffer.write(marshal.dumps({s.name: bundle.load_document(s) for s in bundle.SOURCES}))\n"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    assert marshal.loads(done.stdout) == parsed


def test_changing_what_a_caller_got_changes_no_later_load(cache):
    first = load_document(PASSPORT)  # built and stored
    first["paths"].clear()
    second = load_document(PASSPORT)  # read from the cache
    second["info"]["title"] = "changed"
    assert load_document(PASSPORT) == _parsed(PASSPORT)


@pytest.mark.parametrize(
    "source, filename, old",
    [
        (PASSPORT, PASSPORT.filename, "title: Passport"),
        (BANKING_AUTH, BANKING_AUTH.filename, '"title": "Banking'),
        (BANKING_AUTH, BANKING_AUTH.overlay, "pismo-sandbox (paths"),
    ],
)
def test_an_edited_spec_or_overlay_is_served_as_edited_not_from_the_cache(
    cache, tmp_path, monkeypatch, source, filename, old
):
    copy = tmp_path / "openapi"
    shutil.copytree(Path(str(bundle.spec_dir())), copy)
    monkeypatch.setattr(bundle, "spec_dir", lambda: copy)
    before = load_document(source)
    assert len(_entries(cache)) == 1

    edited = copy / filename
    text = edited.read_text(encoding="utf-8")
    assert old in text
    edited.write_text(text.replace(old, old + " edited", 1), encoding="utf-8")
    after = load_document(source)

    assert after != before
    assert after == _parsed(source)
    assert len(_entries(cache)) == 2  # an entry of its own; the old one is never read for the new files


def test_a_changed_transform_is_not_answered_from_entries_of_the_old_one(cache, monkeypatch):
    load_document(PASSPORT)
    inputs = bundle._transform_inputs()
    assert inputs is not None
    monkeypatch.setattr(bundle, "_transform_inputs", lambda: (*inputs, b"another version of the transforms"))
    built = []
    real_build = bundle.build_document
    monkeypatch.setattr(bundle, "build_document", lambda *args: built.append(args) or real_build(*args))

    assert load_document(PASSPORT) == _parsed(PASSPORT)
    assert len(built) == 1


CORRUPTIONS = {
    "empty": lambda data: b"",
    "truncated": lambda data: data[: len(data) // 2],
    "one byte changed": lambda data: data[:-10] + bytes([data[-10] ^ 0xFF]) + data[-9:],
    "another document": lambda data: data[:32] + marshal.dumps({"openapi": "3.1.0"}),
    "not marshal": lambda data: b"\x00" * 32 + b"garbage",
}


@pytest.mark.parametrize("corrupt", CORRUPTIONS.values(), ids=CORRUPTIONS.keys())
def test_a_corrupt_entry_is_ignored_and_rewritten(cache, monkeypatch, corrupt):
    load_document(PASSPORT)
    [entry] = _entries(cache)
    entry.write_bytes(corrupt(entry.read_bytes()))

    assert load_document(PASSPORT) == _parsed(PASSPORT)

    monkeypatch.setattr(bundle, "build_document", _no_parsing)  # rewritten: read from the cache now
    assert load_document(PASSPORT) == _parsed(PASSPORT)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_no_damage_to_an_entry_makes_a_load_fail_or_serve_another_document(cache, data):
    load_document(PASSPORT)
    [entry] = _entries(cache)
    original = entry.read_bytes()
    start = data.draw(st.integers(0, len(original)), label="start")
    end = data.draw(st.integers(start, len(original)), label="end")
    replacement = data.draw(st.binary(max_size=64), label="replacement")
    damaged = original[:start] + replacement + original[end:]
    entry.write_bytes(damaged)
    try:
        assert load_document(PASSPORT) == _parsed(PASSPORT)
    finally:
        entry.write_bytes(original)


def test_a_directory_that_cannot_be_written_still_loads(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv(document_cache.ENV_VAR, str(blocker / "cache"))  # cannot be created under a file

    assert {source.name: load_document(source) for source in SOURCES} == {s.name: _parsed(s) for s in SOURCES}
    assert list(tmp_path.iterdir()) == [blocker]


def test_off_parses_every_time_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv(document_cache.ENV_VAR, "off")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    built = []
    real_build = bundle.build_document
    monkeypatch.setattr(bundle, "build_document", lambda *args: built.append(args) or real_build(*args))

    assert load_document(PASSPORT) == load_document(PASSPORT) == _parsed(PASSPORT)
    assert len(built) == 2
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "variables, expected",
    [
        ({document_cache.ENV_VAR: "{tmp}/chosen"}, "{tmp}/chosen"),
        ({"XDG_CACHE_HOME": "{tmp}/xdg"}, "{tmp}/xdg/pismo-sandbox"),
        ({"XDG_CACHE_HOME": "relative/xdg"}, "{tmp}/home/.cache/pismo-sandbox"),  # the XDG spec: ignored
        ({}, "{tmp}/home/.cache/pismo-sandbox"),
    ],
)
def test_entries_go_to_the_chosen_then_the_xdg_then_the_home_cache_directory(
    tmp_path, monkeypatch, variables, expected
):
    monkeypatch.delenv(document_cache.ENV_VAR, raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    for name, value in variables.items():
        monkeypatch.setenv(name, value.format(tmp=tmp_path))

    load_document(PASSPORT)

    assert [entry.parent for entry in tmp_path.rglob(f"*{document_cache.SUFFIX}")] == [
        Path(expected.format(tmp=tmp_path))
    ]
