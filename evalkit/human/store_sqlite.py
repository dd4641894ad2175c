"""The SQLite backend: WAL mode (readers never block the one writer), a busy timeout instead
of "database is locked" errors, and write transactions taken with BEGIN IMMEDIATE so two
writers queue rather than deadlock."""

from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from evalkit.errors import UserError
from evalkit.human.schema import SCHEMA_VERSION, schema_sql
from evalkit.human.store_base import Store, check_version

BUSY_TIMEOUT_MS = 30_000

# Writers in one process (the app serves every browser session from a thread) queue on a
# lock per database file instead of polling SQLite's busy handler, which sleeps in steps
# of up to 100 ms; other processes still wait through busy_timeout.
_WRITE_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def _write_lock(path: Path) -> threading.Lock:
    with _LOCKS_GUARD:
        return _WRITE_LOCKS.setdefault(str(path.resolve()), threading.Lock())


def _dict_row(cursor: sqlite3.Cursor, row: tuple) -> dict:
    return {d[0]: v for d, v in zip(cursor.description, row)}


class SQLiteStore(Store):
    dialect = "sqlite"
    errors = (sqlite3.DatabaseError,)

    def __init__(self, conn: sqlite3.Connection, path: Path):
        self.conn, self.path, self._lock = conn, path, _write_lock(path)

    @classmethod
    def open(cls, target: str, *, create: bool = False) -> SQLiteStore:
        path = Path(target)
        if not create and not path.is_file():
            raise UserError(f"no study database at {path}; make one with `evalkit human create`")
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False)
        conn.row_factory = _dict_row
        store = cls(conn, path)
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")  # a committed vote survives a power cut
            conn.execute("PRAGMA foreign_keys = ON")
            if create:  # one transaction: a second process creating at once sees all tables or none
                conn.executescript(f"BEGIN IMMEDIATE; {schema_sql('sqlite')}; INSERT OR IGNORE INTO meta(key, value) "
                                   f"VALUES ('schema_version', '{SCHEMA_VERSION}'); COMMIT;")
            check_version(store, str(path))
        except (sqlite3.DatabaseError, UserError) as err:
            conn.close()
            if isinstance(err, UserError):
                raise
            raise UserError(f"{path} is not an evalkit study database ({err}); pass the file `evalkit human create` "
                            "made") from None
        return store

    def query(self, sql: str, params: dict | None = None) -> list[dict]:
        return self.conn.execute(sql, params or {}).fetchall()

    def execute(self, sql: str, params: dict | None = None) -> int:
        return self.conn.execute(sql, params or {}).rowcount

    def executemany(self, sql: str, rows: list[dict]) -> None:
        self.conn.executemany(sql, rows)

    @contextmanager
    def transaction(self, lock: int | None = None) -> Iterator[SQLiteStore]:
        """BEGIN IMMEDIATE takes the write lock up front (waiting up to the busy timeout), so a
        read-then-write never fails half way because another writer slipped in. `lock` is
        not needed: SQLite has one writer at a time."""
        with self._lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    def close(self) -> None:
        self.conn.close()
