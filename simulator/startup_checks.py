"""Start-up checks: every mistake a new user is likely to make before the sandbox can serve
(settings, the database file, the port, the fault file) found up front and told in one line that
names the setting and the fix, instead of a traceback from deep inside (or, for a port in use,
gunicorn retrying for five seconds).

The command line prints a :class:`StartupError` as ``pismo-sandbox: error: <message>`` and exits
2; anything else may call the same checks and show the message as it likes.
"""

from __future__ import annotations

import binascii
import contextlib
import dataclasses
import difflib
import errno
import logging
import os
import pathlib
import socket
import sqlite3
from collections.abc import Mapping

from pismo_sandbox.config import ENV_PREFIX, TOKEN_ALGORITHMS, Config
from pismo_sandbox.crypto import KEY_BYTES, damaged_key_file

SQLITE_HEADER = b"SQLite format 3\x00"  # the first 16 bytes of every SQLite 3 database file
LOG_FORMATS = ("text", "json")
NEW_KEY = 'python -c "import base64, os; print(base64.b64encode(os.urandom(32)).decode())"'


class StartupError(ValueError):
    """A mistake that stops the sandbox from starting; str() is one line: setting, problem, fix."""


def check_settings(config: Config) -> None:
    """The PISMO_SANDBOX_* settings that are only read once the app is built."""
    from pismo_sandbox.crypto import load_master_key

    if config.token_algorithm not in TOKEN_ALGORITHMS:
        raise StartupError(
            f"{ENV_PREFIX}TOKEN_ALGORITHM={config.token_algorithm!r} is not supported; "
            f"use one of {', '.join(TOKEN_ALGORITHMS)} (or unset it for HS512)"
        )
    if config.master_key:
        try:
            load_master_key(config.master_key, ":memory:")
            valid = all(c.isalnum() or c in "+/-_=" for c in config.master_key.strip())
        except (ValueError, binascii.Error):
            valid = False
        if not valid:
            raise StartupError(
                f"{ENV_PREFIX}MASTER_KEY must be at least 32 random bytes in base64 (make one "
                f"with: {NEW_KEY}), or unset it to keep a key file beside the database"
            )
    if not isinstance(logging.getLevelName(str(config.log_level).upper()), int):
        raise StartupError(
            f"{ENV_PREFIX}LOG_LEVEL={config.log_level!r} is not a log level; use one of DEBUG, INFO, WARNING, ERROR"
        )
    if config.log_format not in LOG_FORMATS:
        raise StartupError(f"{ENV_PREFIX}LOG_FORMAT={config.log_format!r} is not a log format; use text or json")


def check_database(path: str, *, must_exist: bool = False, option: str = "--db") -> None:
    """The database file can be opened as a sandbox database (or created, unless ``must_exist``)."""
    if path == ":memory:":
        return
    where = f"{option} {path}"
    if os.path.isdir(path):
        raise StartupError(f"{where} is a folder; give a file path, e.g. {os.path.join(path, 'sandbox.db')}")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise StartupError(
            f"{where}: the folder {folder} does not exist; create it (mkdir -p {folder}) or choose another path"
        )
    if not os.path.exists(path):
        if must_exist:
            raise StartupError(
                f"{where}: no such database; give the file the sandbox serves from (pismo-sandbox serve --db FILE)"
            )
        if not os.access(folder, os.W_OK | os.X_OK):
            raise StartupError(
                f"{where}: cannot create a file in {folder} (permission denied); choose a folder you can write to"
            )
        return
    if not os.access(path, os.R_OK | os.W_OK):
        raise StartupError(
            f"{where}: permission denied (the sandbox reads and writes it); fix its permissions or choose another file"
        )
    with open(path, "rb") as handle:
        header = handle.read(len(SQLITE_HEADER))
    if header and header != SQLITE_HEADER:
        raise StartupError(f"{where} is not a SQLite database; point --db at a sandbox database or at a new file")
    if header:
        try:
            uri = pathlib.Path(path).absolute().as_uri() + "?mode=ro"  # read only: nothing is created
            with contextlib.closing(sqlite3.connect(uri, uri=True)) as conn:
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.DatabaseError as error:
            raise StartupError(
                f"{where} cannot be read as a SQLite database ({error}); point --db"
                " at a sandbox database or at a new file"
            ) from None
    key_file = path + ".key"
    if os.path.isfile(key_file) and os.path.getsize(key_file) != KEY_BYTES:
        raise StartupError(damaged_key_file(key_file, os.path.getsize(key_file)))


def check_port(host: str, port: int) -> None:
    """The address can be listened on; checked by binding it once (and letting go)."""
    if not 0 <= port <= 65535:
        raise StartupError(f"--port {port}: a port is a number from 1 to 65535")
    if port == 0:
        return
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise StartupError(
            f"--host {host}: unknown host; use an address of this machine, e.g. 127.0.0.1"
            " (or 0.0.0.0 for every interface)"
        ) from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds
        try:
            probe.bind(address)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise StartupError(
                    f"--port {port}: {host}:{port} is already in use (another sandbox?); "
                    "stop what listens there or choose another port with --port"
                ) from None
            if error.errno == errno.EACCES:
                raise StartupError(
                    f"--port {port}: permission denied (ports below 1024 need root); choose a port from 1024 up"
                ) from None
            if error.errno == errno.EADDRNOTAVAIL:
                raise StartupError(
                    f"--host {host}: not an address of this machine; use 127.0.0.1 (or 0.0.0.0 for every interface)"
                ) from None
            raise StartupError(f"--host {host} --port {port}: cannot listen there ({error.strerror})") from None


def check_faults_file(path: str | None) -> None:
    from pismo_sandbox.faults.files import FaultFileError, read_rules

    if not path:
        return
    try:
        read_rules(path)
    except FaultFileError as error:
        raise StartupError(f"--faults {error}".replace("\n", "; ")) from None


def misspelt_settings(environ: Mapping[str, str] | None = None) -> list[str]:
    """Warnings for PISMO_SANDBOX_* variables that are no setting but look like a misspelt one
    (they would be ignored without a word). Variables close to no setting are left alone: other
    tools may use the prefix too."""
    source: Mapping[str, str] = os.environ if environ is None else environ
    known = [ENV_PREFIX + f.name.upper() for f in dataclasses.fields(Config) if f.name != "extra"]
    warnings = []
    for name in sorted(source):
        if name.startswith(ENV_PREFIX) and name not in known:
            close = difflib.get_close_matches(name, known, n=1, cutoff=0.85)
            if close:
                warnings.append(f"{name} is not a setting and is ignored; did you mean {close[0]}?")
    return warnings


def check_serve(
    config: Config, host: str, port: int, workers: int = 1, threads: int = 1, db_option: str = "--db"
) -> None:
    """Everything ``serve`` needs, in the order a user would fix it (``db_option``: how the
    database was named, for the message)."""
    check_settings(config)
    if workers < 1:
        raise StartupError(f"--workers {workers}: give 1 or more")
    if threads < 1:
        raise StartupError(f"--threads {threads}: give 1 or more")
    check_database(config.db_path, option=db_option)
    check_faults_file(config.faults_file)
    check_port(host, port)
