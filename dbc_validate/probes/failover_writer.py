"""The failover writer: numbered inserts through the read-write endpoint, every attempt logged, and the reader.

Like an application: one connection, reconnect at once after any error, retry the same sequence number
until it is acknowledged (so a commit whose acknowledgement was lost shows up as a duplicate).
"""

from __future__ import annotations

import contextlib
import threading
import time
from pathlib import Path
from typing import Any

from dbc_validate.analysis.failover_log import (
    CREATE_TABLE,
    LOG_HEADER,
    TABLE,
    Attempt,
    compact_connection_error,
    format_attempt,
    format_present,
)

# No unique key on (run_id, seq) on purpose: a duplicate must be visible, not rejected.
INSERT = (
    f"INSERT INTO {TABLE} (run_id, seq, attempt, sent_at) VALUES (%s, %s, %s, %s) "
    "RETURNING coalesce(host(inet_server_addr()), 'local') || ':' || coalesce(inet_server_port()::text, '')"
)
PRESENT = f"SELECT seq, count(*) FROM {TABLE} WHERE run_id = %s GROUP BY seq ORDER BY seq"

# Short timeouts so a dead primary costs at most about a second per attempt (libpq's connect_timeout
# minimum is 2 s; tcp_user_timeout catches a peer that vanished without a reset).
TIMEOUTS = {
    "connect_timeout": "2",
    "tcp_user_timeout": "1000",
    "keepalives_idle": "1",
    "keepalives_interval": "1",
    "keepalives_count": "2",
    "options": "-c statement_timeout=1000",
    "application_name": "dbc_failover_writer",
}


def with_timeouts(dsn: str) -> str:
    """`dsn` plus the writer's short timeouts (values already in `dsn` win)."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo  # heavy: psycopg loads only when a writer runs

    params = conninfo_to_dict(dsn)
    return make_conninfo(**{**TIMEOUTS, **params})


def ensure_table(dsn: str) -> None:
    import psycopg  # heavy: as above

    with psycopg.connect(with_timeouts(dsn), autocommit=True) as conn:
        conn.execute(CREATE_TABLE)


def present_rows(dsn: str, run_id: str) -> dict[int, int]:
    """seq -> number of rows, as the current primary holds them."""
    import psycopg  # heavy: as above

    with psycopg.connect(with_timeouts(dsn), autocommit=True) as conn:
        return {int(seq): int(n) for seq, n in conn.execute(PRESENT, (run_id,)).fetchall()}


def _error_text(exc: BaseException) -> str:
    sqlstate = getattr(exc, "sqlstate", None)
    text = compact_connection_error(str(exc)) or type(exc).__name__
    return f"{type(exc).__name__} SQLSTATE {sqlstate}: {text}" if sqlstate else f"{type(exc).__name__}: {text}"


class FailoverWriter:
    """Background thread writing numbered rows every `interval_s` and logging each attempt to `log_path`."""

    def __init__(self, dsn: str, run_id: str, log_path: Path, interval_s: float = 0.025) -> None:
        self.dsn = with_timeouts(dsn)
        self.run_id = run_id
        self.log_path = log_path
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"failover-writer-{run_id}", daemon=True)
        self._lock = threading.Lock()
        self._last_ack = 0.0
        self._acks = 0
        self.crashed: BaseException | None = None

    def start(self) -> FailoverWriter:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 10.0) -> str:
        """Stop writing and return the log text."""
        self._stop.set()
        self._thread.join(timeout_s)
        if self.crashed is not None:
            raise RuntimeError(f"failover writer crashed: {self.crashed!r}") from self.crashed
        return self.log_path.read_text(encoding="utf-8")

    @property
    def last_ack(self) -> float:
        with self._lock:
            return self._last_ack

    @property
    def acks(self) -> int:
        with self._lock:
            return self._acks

    def _attempt(self, conn: Any, seq: int, attempt: int) -> tuple[Any, Attempt]:
        import psycopg  # heavy: as above

        sent = time.time()
        try:
            if conn is None or conn.closed:
                conn = psycopg.connect(self.dsn, autocommit=True)
            row = conn.execute(INSERT, (self.run_id, seq, attempt, sent)).fetchone()
            return conn, Attempt(seq, attempt, sent, time.time(), True, str(row[0]) if row else "")
        except Exception as exc:  # every failure is data: log it, drop the connection, try again
            if conn is not None:
                with contextlib.suppress(Exception):
                    conn.close()
            return None, Attempt(seq, attempt, sent, time.time(), False, _error_text(exc))

    def _run(self) -> None:
        conn: Any = None
        seq, attempt = 1, 1
        try:
            with open(self.log_path, "w", encoding="utf-8", buffering=1) as log:
                log.write(f"{LOG_HEADER}\n# run {self.run_id}\n")
                next_at = time.monotonic()
                while not self._stop.is_set():
                    conn, result = self._attempt(conn, seq, attempt)
                    log.write(format_attempt(result) + "\n")
                    if result.acked:
                        with self._lock:
                            self._last_ack, self._acks = result.done, self._acks + 1
                        seq, attempt = seq + 1, 1
                    else:
                        attempt += 1
                    next_at = max(next_at + self.interval_s, time.monotonic())
                    self._stop.wait(max(0.0, next_at - time.monotonic()))
        except BaseException as exc:  # surfaced by stop()
            self.crashed = exc
        finally:
            if conn is not None:
                with contextlib.suppress(Exception):
                    conn.close()


def append_present(log_text: str, present: dict[int, int]) -> str:
    """The writer log with the reader's findings appended (the format the in-cluster writer pod prints)."""
    lines = [format_present(seq, n) for seq, n in sorted(present.items())] or ["present-none"]
    return log_text.rstrip("\n") + "\n" + "\n".join(lines) + "\n"
