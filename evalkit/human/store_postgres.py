"""The PostgreSQL backend (psycopg 3 with psycopg_pool): for several `evalkit human serve`
replicas sharing one database server. Connections come from a process-wide pool per URL
(the app opens a store on every page rerun), run in autocommit mode, and write
transactions take `pg_advisory_xact_lock(lock)` so that claims on one study are serialised
across every replica, as SQLite's single writer serialises them on one machine."""

from __future__ import annotations

import atexit
import re
import threading
from contextlib import contextmanager
from functools import lru_cache
from typing import Iterator

from evalkit.errors import UserError
from evalkit.human.schema import SCHEMA_VERSION, schema_sql
from evalkit.human.store_base import Store, check_version

POOL_SIZE = 16           # connections per process and database; the app holds one per running page rerun
CONNECT_TIMEOUT_S = 10
LOCK_BASE = 0x45564B00   # advisory lock keys: LOCK_BASE + study id ("EVK" + 00); LOCK_BASE itself guards the schema
_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
_POOLS: dict = {}
_POOLS_GUARD = threading.Lock()


@lru_cache(maxsize=512)
def to_pyformat(sql: str) -> str:
    """`:name` parameters (our one SQL style) as psycopg's `%(name)s`; a literal % doubled.
    (Our SQL never writes `:word` inside a string literal; `::type` casts are left alone.)"""
    return _NAMED.sub(r"%(\1)s", sql.replace("%", "%%"))


def describe(url: str) -> str:
    """The database a URL names, without its password (for messages)."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        info = conninfo_to_dict(url)
    except Exception:  # noqa: BLE001 - a malformed URL is reported by the caller
        return "the PostgreSQL URL given"
    host = info.get("host") or "localhost"
    return f"PostgreSQL database {info.get('dbname') or '(default)'} on {host}:{info.get('port') or 5432}"


def _pool(url: str):
    with _POOLS_GUARD:
        if url in _POOLS:
            return _POOLS[url]
        import psycopg
        from psycopg.rows import dict_row
        from psycopg_pool import ConnectionPool

        try:  # one direct connection first: its error says what is wrong, a pool would only time out
            psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_S).close()
        except (psycopg.Error, ValueError) as err:
            reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise UserError(f"cannot connect to {describe(url)}: {reason}; check --db and that the server "
                            "is running") from None
        pool = ConnectionPool(url, min_size=1, max_size=POOL_SIZE, open=False, check=ConnectionPool.check_connection,
                              kwargs={"autocommit": True, "row_factory": dict_row})
        pool.open(wait=True, timeout=CONNECT_TIMEOUT_S)
        atexit.register(pool.close)
        _POOLS[url] = pool
        return pool


def close_pools(url: str | None = None) -> None:
    """Close this process's pool for `url` (every pool: None), e.g. before the server goes away."""
    with _POOLS_GUARD:
        pools = [_POOLS.pop(url)] if url in _POOLS else ([] if url else [_POOLS.pop(u) for u in list(_POOLS)])
    for pool in pools:
        pool.close()


class PostgresStore(Store):
    dialect = "postgres"

    def __init__(self, pool, conn, url: str):
        self.pool, self.conn, self.url = pool, conn, url

    @property
    def errors(self) -> tuple[type[BaseException], ...]:
        import psycopg

        return (psycopg.Error,)

    @classmethod
    def open(cls, url: str, *, create: bool = False) -> PostgresStore:
        pool = _pool(url)
        store = cls(pool, pool.getconn(timeout=30), url)
        try:
            if create:
                with store.conn.transaction():  # concurrent creators: one makes the tables, the others wait
                    store.conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_BASE,))
                    store.conn.execute(schema_sql("postgres"))
                    store.conn.execute("INSERT INTO meta(key, value) VALUES ('schema_version', %s) "
                                       "ON CONFLICT DO NOTHING", (str(SCHEMA_VERSION),))
            check_version(store, describe(url))
        except BaseException:
            store.close()
            raise
        return store

    def query(self, sql: str, params: dict | None = None) -> list[dict]:
        cur = self.conn.execute(to_pyformat(sql), params or {})
        return cur.fetchall() if cur.description else []

    def execute(self, sql: str, params: dict | None = None) -> int:
        return self.conn.execute(to_pyformat(sql), params or {}).rowcount

    def executemany(self, sql: str, rows: list[dict]) -> None:
        with self.conn.cursor() as cur:
            cur.executemany(to_pyformat(sql), rows)

    @contextmanager
    def transaction(self, lock: int | None = None) -> Iterator[PostgresStore]:
        with self.conn.transaction():
            if lock is not None:
                self.conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_BASE + int(lock),))
            yield self

    def close(self) -> None:
        if self.conn is not None:
            self.pool.putconn(self.conn)
            self.conn = None
