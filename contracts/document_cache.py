"""The on-disk cache of documents as served: a document built once (parsed, overlaid, rewritten)
is kept with ``marshal`` in a per-user cache directory, so the next process reads it in about a
millisecond instead of parsing it again.

An entry is named by a sha256 digest of everything that decides the document (the caller's
inputs: the published file, its overlay, the code that transforms them) and of the Python
version (marshal's format), so a changed input is never answered from an old entry. marshal
runs no code on load. Entries are written atomically (a temporary file renamed into place), so
concurrent processes never read a half-written one; a missing, corrupt or unreadable entry, or a
directory that cannot be written, only costs the parse. Like the bundle, this module depends on
nothing else in the package.
"""

from __future__ import annotations

import hashlib
import logging
import marshal
import os
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

ENV_VAR = "PISMO_SANDBOX_CACHE_DIR"
DISABLED = "off"
SUFFIX = ".marshal"
_CHECKSUM_SIZE = hashlib.sha256().digest_size

log = logging.getLogger(__name__)


def cache_dir() -> Path | None:
    """Where entries live: $PISMO_SANDBOX_CACHE_DIR (``off``: no cache), else
    $XDG_CACHE_HOME/pismo-sandbox, else ~/.cache/pismo-sandbox (None: no cache)."""
    chosen = os.environ.get(ENV_VAR)
    if chosen:
        return None if chosen.strip().lower() == DISABLED else Path(chosen).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and os.path.isabs(xdg):  # the XDG spec: a relative path is to be ignored
        return Path(xdg) / "pismo-sandbox"
    try:
        return Path.home() / ".cache" / "pismo-sandbox"
    except RuntimeError:  # no home directory to be found
        return None


def entry_key(inputs: Iterable[bytes]) -> str:
    """sha256 of the inputs (each length-prefixed, so no two sequences spell the same bytes)
    and of the interpreter's version and marshal format."""
    digest = hashlib.sha256()
    for part in (sys.version.encode(), str(marshal.version).encode(), *inputs):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def cached_document(name: str, inputs: Iterable[bytes], build: Callable[[], dict]) -> dict:
    """The document named ``name`` as ``build`` makes it from ``inputs``: read from the cache
    when an entry for exactly these inputs exists, else built and stored. Every call returns a
    fresh object, so no caller sees another's changes."""
    directory = cache_dir()
    if directory is None:
        return build()
    path = directory / f"{name}-{entry_key(inputs)}{SUFFIX}"
    document = _read(path)
    if document is not None:
        return document
    document = build()
    _write(path, document)
    return document


def _read(path: Path) -> dict | None:
    try:
        data = path.read_bytes()
    except OSError:  # no entry yet, or unreadable
        return None
    checksum, payload = data[:_CHECKSUM_SIZE], data[_CHECKSUM_SIZE:]
    if hashlib.sha256(payload).digest() != checksum:
        log.debug("ignoring the corrupt cache entry %s", path)
        return None
    try:
        document = marshal.loads(payload)
    except (EOFError, ValueError, TypeError):
        log.debug("ignoring the unreadable cache entry %s", path)
        return None
    return document if isinstance(document, dict) else None


def _write(path: Path, document: dict) -> None:
    try:
        payload = marshal.dumps(document)
    except ValueError:  # a value marshal cannot hold (e.g. a date YAML read): not cached
        log.debug("not caching %s: the document holds a value marshal cannot keep", path.name)
        return
    temporary = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".tmp-", suffix=SUFFIX, delete=False) as out:
            temporary = out.name
            out.write(hashlib.sha256(payload).digest() + payload)
        os.replace(temporary, path)
    except OSError as error:  # a read-only or full disk: the next process parses again
        log.debug("could not write the cache entry %s: %s", path, error)
        if temporary is not None:
            try:
                os.unlink(temporary)
            except OSError:
                pass
