"""The request journal: one row per request (no bodies, no secrets), and the access log's line
per request (a journaled request's line is written with its row, by the journal's writer thread)."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from werkzeug.exceptions import RequestEntityTooLarge

from pismo_sandbox.clock import isoformat
from pismo_sandbox.idempotency import REPLAY_HEADER
from pismo_sandbox.jsonio import loads, sorted_compact
from pismo_sandbox.logs import AccessFields, AccessLog
from pismo_sandbox.gateway.journal_writer import BatchWriter
from pismo_sandbox.store import Store

if TYPE_CHECKING:
    from flask import Request, Response

    from pismo_sandbox.core import SandboxCore
    from pismo_sandbox.request_context import RequestContext

access_log = logging.getLogger("pismo_sandbox.access")
access_line = AccessLog(access_log)
# Set on a queued row whose access line the writer thread is to write (not a column): it writes the
# lines of its batch, made from their rows, in one go before committing the rows, so a journaled
# request makes no write(2) for its line.
WITH_LINE = "with_access_line"
PRUNE_EVERY = 500  # at most: smaller limits prune more often (prune_step)


def prune_step(limit: int) -> int:
    """Rows between two prunes: a tenth of the limit (at least 1, at most PRUNE_EVERY). Each
    prune keeps exactly the newest ``limit`` rows, so the journal holds at least ``limit`` rows
    (once that many were written) and at most ``limit + prune_step(limit) - 1``: never more than
    10% over the limit."""
    return max(1, min(PRUNE_EVERY, limit // 10))


class JournalRepository:
    """Journal rows are queued by the request and committed in batches by a writer thread of
    its process (journal_writer.BatchWriter), off the request path. Every read first waits for
    the rows every process had queued (a client that reads the journal right after an answer,
    from whichever worker, finds its row).

    ``store`` is the journal's own file (store.journal_path), not the state's: a journal commit
    never waits for the state's write lock, nor makes the state's connections re-read pages."""

    INSERT = (
        "INSERT INTO journal (timestamp, method, path, operation_id, status, tenant_id,"
        " account_id, cid, verdict, detail, fault_rule, duration_ms, idempotency_key,"
        " body_fingerprint, code, replayed, answered) VALUES (:timestamp, :method, :path,"
        " :operation_id, :status, :tenant_id, :account_id, :cid, :verdict, :detail,"
        " :fault_rule, :duration_ms, :idempotency_key, :body_fingerprint, :code, :replayed,"
        " :answered)"
    )

    def __init__(self, store: Store, limit: int):
        self.store = store
        self.limit = limit
        self.prune_step = prune_step(limit)
        self.writer = BatchWriter(self._write, None if store.memory else store.path + ".writers", self._dropped)

    def append(self, entry: dict) -> None:
        """Queue the row (committed within BatchWriter.DELAY, or by the next read)."""
        self.writer.append(entry)

    def flush(self) -> None:
        """Commit every row queued so far by any process on this journal."""
        self.writer.wait_for_all()

    def _write(self, batch: list[dict]) -> None:
        # The access lines first: they are written whether or not the rows then commit.
        access_line.write_many([access_fields(row) for row in batch if row.pop(WITH_LINE, False)])
        if len(batch) == 1:  # one statement, no BEGIN/COMMIT round trips
            self._prune_after(cast(int, self.store.write_one(self.INSERT, batch[0]).lastrowid), 1)  # set by an INSERT
            return
        with self.store.transaction() as db:
            db.conn.executemany(self.INSERT, batch)
            last = db.conn.execute("SELECT last_insert_rowid()").fetchone()[0]
            self._prune_after(last, len(batch))  # in the same transaction: never seen over the bound

    def _prune_after(self, last: int, count: int) -> None:
        """Rows ``last - count + 1 .. last`` were just written (consecutive: one writer at a
        time holds the lock): if a multiple of the prune step is among them, keep the newest
        ``limit`` rows."""
        if last // self.prune_step > (last - count) // self.prune_step:
            self.store.write_one("DELETE FROM journal WHERE seq <= ?", [last - self.limit])

    @staticmethod
    def _dropped(batch: list[dict], error: BaseException) -> None:
        # The answers stand; only their rows are lost (a stalled writer-lock holder, a full disk).
        first = batch[0]
        access_log.warning(
            "journal row of %s %s dropped%s: %s",
            first["method"],
            first["path"],
            f" (and {len(batch) - 1} more)" if len(batch) > 1 else "",
            error,
        )

    def clear(self) -> None:
        """Forget every row (a sandbox reset), those still queued included."""
        self.flush()
        with self.store.transaction() as db:
            db.execute("DELETE FROM journal")

    def recent(
        self,
        limit: int = 50,
        tenant_id: str | None = None,
        cid: str | None = None,
        operation_id: str | None = None,
        after: int | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> list[dict]:
        self.flush()
        where: list[str] = ["1 = 1"]
        params: list[object] = []
        if idempotency_key:
            where.append("idempotency_key = ?")
            params.append(idempotency_key)
        if after is not None:
            where.append("seq > ?")
            params.append(after)
        if operation_id:
            where.append("operation_id = ?")
            params.append(operation_id)
        if tenant_id:
            where.append("tenant_id = ?")
            params.append(tenant_id)
        if cid:
            where.append("cid = ?")
            params.append(cid)
        # Newest answer first (``answered``: when the answer left, in nanoseconds of the system
        # clock, which every worker shares); rows of a journal older than that column follow, by
        # seq. A page after a seq is read by seq (a short range) and then sorted: "+answered"
        # keeps SQLite from walking the whole answered index for it.
        order = "+answered" if after is not None else "answered"
        rows = self.store.db.query(
            f"SELECT * FROM journal WHERE {' AND '.join(where)} ORDER BY {order} DESC, seq DESC LIMIT ?",
            params + [limit],
        )
        return [_public(row) for row in rows]


def _public(row: dict) -> dict:
    """A stored row as the API shows it: the answer time as an instant (``answered_at``)."""
    answered = row.pop("answered", None)
    row["answered_at"] = None if answered is None else answered_at(answered)
    row["replayed"] = bool(row["replayed"])
    return row


def answer_order(row: dict) -> tuple[str, int]:
    """A listed row's place in the order the answers left: ``answered_at``, then ``seq``. Not
    ``seq`` alone: each worker commits its rows in batches, so two workers' rows can be numbered
    out of answer order (a retry answered by one worker before the attempt another worker
    answered first)."""
    return (row.get("answered_at") or "", row["seq"])


def answered_at(nanoseconds: int) -> str:
    """RFC 3339 with microseconds, UTC: ``answered`` as readers order by it (the machine's clock;
    ``timestamp`` is the sandbox clock, which may be frozen)."""
    moment = datetime.fromtimestamp(nanoseconds // 10**9, UTC).replace(microsecond=nanoseconds // 1000 % 10**6)
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def _fingerprint(services: SandboxCore, state: RequestContext, request: Request) -> str | None:
    checked = state.checked
    if checked is not None:  # validated: the body is already parsed
        body = checked.body
    else:
        try:
            body = request.get_json(silent=True)
        except RequestEntityTooLarge:
            return None
    if body is None:
        return None
    return services.fingerprint(sorted_compact(body))[:32]


def _error_code(response: Response) -> str | None:
    """The documented code of an error answer (the envelope's `code`), for the journal."""
    if response.status_code < 400 or response.mimetype != "application/json":
        return None
    try:
        body = loads(response.get_data())
    except ValueError:
        return None
    return body.get("code") if isinstance(body, dict) and isinstance(body.get("code"), str) else None


def record(services: SandboxCore, state: RequestContext, request: Request, response: Response) -> None:
    """Append the journal row and the access-log line for this request (``state`` is its
    RequestContext)."""
    principal = state.principal
    op = state.operation
    duration_ms = round((time.perf_counter() - state.started) * 1000, 3)
    headers = request.headers
    entry: dict[str, Any] = {
        "timestamp": isoformat(services.clock.now()),
        "method": request.method,
        "path": request.path,
        "operation_id": op.operation_id if op else None,
        "status": response.status_code,
        "tenant_id": principal.tenant_id if principal else None,
        "account_id": principal.account_id if principal else None,
        "cid": state.cid,
        "verdict": state.verdict,
        "detail": state.detail,
        "fault_rule": state.fault_rule,
        "duration_ms": duration_ms,
        "idempotency_key": headers.get("x-idempotency-key"),
        # A keyed fingerprint, never the body: drills spot retries of one request under new keys.
        "body_fingerprint": _fingerprint(services, state, request) if op is not None and op.has_body else None,
        "code": _error_code(response),
        "replayed": 1 if response.headers.get(REPLAY_HEADER) == "true" else 0,
        "answered": time.time_ns(),
    }
    if state.unjournaled:  # the dashboard's own pages and polls are not API traffic
        access_line.write_many([access_fields(entry)])
    elif access_line.plain():  # written with the row, by the journal's writer thread
        entry[WITH_LINE] = True
        services.journal.append(entry)
    else:  # now: a record per line (the JSON format, a test's capture), or no line (the log is off)
        services.journal.append(entry)
        access_line.write_many([access_fields(entry)])


def access_fields(row: dict) -> AccessFields:
    """The access line of a journal row: every field of the line is one of the row's."""
    return (
        row["answered"] / 1e9,
        row["method"],
        row["path"],
        row["status"],
        row["duration_ms"],
        row["cid"],
        row["operation_id"],
        row["verdict"],
        row["tenant_id"],
        row["fault_rule"],
    )
