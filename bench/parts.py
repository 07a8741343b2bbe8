"""CPU per call of the per-request parts changed in the second performance round, old way and
new way alternated in one process (``python -m bench.parts``): the access line, the settings
snapshot, the journal row, and the verification of a token not seen before.

A whole request replayed in-process (bench/ab.py) moves by hundreds of us between rounds on a
loaded machine, more than most of these parts cost; measured alone, alternated, they do not.
Process CPU (all threads: the journal's writer thread is counted), median of the rounds.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jwt.types import Options


def _cpu_us(fn: Callable[[int], None], calls: int) -> float:
    began = time.process_time()
    for n in range(calls):
        fn(n)
    return (time.process_time() - began) / calls * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args(argv)

    import jwt

    from pismo_sandbox.app import build_sandbox
    from pismo_sandbox.config import Config
    from pismo_sandbox.gateway.journal import access_line, access_log
    from pismo_sandbox.logs import TEXT_FORMAT

    workdir = tempfile.mkdtemp(prefix="pismo-parts-")
    sandbox = build_sandbox(Config(db_path=os.path.join(workdir, "parts.db")))
    logger = logging.getLogger("pismo_sandbox")
    logger.setLevel(logging.INFO)
    handler = logging.StreamHandler(open(os.devnull, "w"))
    handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    logger.addHandler(handler)
    logging._srcfile = None  # as create_app sets up logging
    logging.logMultiprocessing = False

    def old_access(n: int) -> None:
        access_log.info(
            "%s %s %s %.1fms cid=%s op=%s verdict=%s",
            "POST",
            "/banking-auth/v1/credentials",
            201,
            1.234,
            "cid",
            "op",
            "ok",
            extra={
                "method": "POST",
                "path": "/banking-auth/v1/credentials",
                "status": 201,
                "duration_ms": 1.2,
                "cid": "cid",
                "operation_id": "op",
                "verdict": "ok",
                "tenant_id": "t",
                "fault_rule": None,
            },
        )

    def new_access(n: int) -> None:
        access_line.write_many(
            [(time.time(), "POST", "/banking-auth/v1/credentials", 201, 1.234, "cid", "op", "ok", "t", None)]
        )

    settings = sandbox.settings
    sandbox.clock.now()

    def old_pin(n: int) -> None:
        settings._pinned.values = settings._read_all()

    def new_pin(n: int) -> None:
        settings.pin()

    journal = sandbox.journal
    row = {
        "timestamp": "2030-01-01T00:00:00.000Z",
        "method": "POST",
        "path": "/x",
        "operation_id": "op",
        "status": 201,
        "tenant_id": "t",
        "account_id": 1,
        "cid": "c",
        "verdict": "ok",
        "detail": None,
        "fault_rule": None,
        "duration_ms": 1.0,
        "idempotency_key": None,
        "body_fingerprint": None,
        "code": None,
        "replayed": 0,
        "answered": 0,
    }

    def old_journal(n: int) -> None:
        journal._write([row])  # the row committed by the request itself, as before

    def new_journal(n: int) -> None:
        journal.append(row)
        if n == args.calls - 1:
            journal.writer.flush()  # the writer thread's work is in the process's CPU too

    tokens = sandbox.tokens
    fresh = [tokens.issue("TN-1", n, 3600).token for n in range(args.calls)]
    claims_options: Options = {
        "require": ["iss", "sub", "iat", "exp"],
        "verify_exp": False,
        "verify_iat": False,
        "verify_nbf": False,
    }

    def old_token(n: int) -> None:
        tokens._principal(
            jwt.decode(
                fresh[n], tokens._secret, algorithms=["HS256", "HS512"], issuer="Passport", options=claims_options
            )
        )

    def new_token(n: int) -> None:
        claims = tokens._checked_claims(fresh[n])
        if claims is None:
            raise RuntimeError("a token issued here missed the fast path")
        tokens._principal(claims)

    parts = {
        "access line": (old_access, new_access),
        "settings pin": (old_pin, new_pin),
        "journal row": (old_journal, new_journal),
        "new token": (old_token, new_token),
    }
    print(f"{'part':<14} {'old us/call':>22} {'new us/call':>22} {'saved':>7}")
    for name, (old, new) in parts.items():
        olds, news = [], []
        for _ in range(args.rounds):
            olds.append(_cpu_us(old, args.calls))
            news.append(_cpu_us(new, args.calls))
        mo, mn = statistics.median(olds), statistics.median(news)
        print(
            f"{name:<14} {mo:>8.1f} ({min(olds):.1f}-{max(olds):.1f}) {mn:>10.1f} ({min(news):.1f}-{max(news):.1f})"
            f" {mo - mn:>7.1f}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
