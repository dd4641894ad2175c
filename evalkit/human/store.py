"""The study store: one interface over two backends, chosen by the `--db` value.

- a file path: SQLite in WAL mode (store_sqlite.py), the embedded default for one server;
- a `postgresql://` URL: PostgreSQL (store_postgres.py), for several `evalkit human serve`
  replicas behind a load balancer sharing one database.

All SQL in evalkit.human is written once, with `:name` parameters, in the subset both
dialects share (ON CONFLICT DO NOTHING, RETURNING, FILTER); rows come back as dicts. Writes
go through `transaction(lock=...)`: SQLite serialises every writer anyway (BEGIN
IMMEDIATE), PostgreSQL takes a transaction-scoped advisory lock on `lock`, so claims on one
study are serialised across replicas and a task's rating cap holds."""

from __future__ import annotations

from evalkit.errors import UserError
from evalkit.human.store_base import Store  # noqa: F401 - the interface, named from here


def is_postgres(target: str) -> bool:
    return str(target).startswith(("postgresql://", "postgres://"))


def open_store(target: str, *, create: bool = False) -> Store:
    """The store at `target` (a SQLite file path or a postgresql:// URL). create=True makes
    the tables (and the SQLite file) when missing."""
    target = str(target)
    if not target:
        raise UserError("no study database given: pass --db FILE or --db postgresql://USER@HOST/DBNAME")
    if is_postgres(target):
        from evalkit.human.store_postgres import PostgresStore

        return PostgresStore.open(target, create=create)
    if "://" in target:
        raise UserError(f"--db {target.split('://')[0]}://... is not supported; give a SQLite file path "
                        "or a postgresql:// URL")
    from evalkit.human.store_sqlite import SQLiteStore

    return SQLiteStore.open(target, create=create)
