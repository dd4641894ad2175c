"""The study store's interface (store.py picks the backend): what every backend offers,
and the schema-version check they share."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from evalkit.errors import UserError


class Store:
    """A connection to a study database. Not shared between threads: open one per use."""

    dialect: str = ""
    errors: tuple[type[BaseException], ...] = ()  # the driver's database errors (for callers that expect one)

    def query(self, sql: str, params: dict | None = None) -> list[dict]:
        raise NotImplementedError

    def execute(self, sql: str, params: dict | None = None) -> int:
        """Run one statement; the number of rows it changed."""
        raise NotImplementedError

    def executemany(self, sql: str, rows: list[dict]) -> None:
        raise NotImplementedError

    def transaction(self, lock: int | None = None) -> AbstractContextManager:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def one(self, sql: str, params: dict | None = None) -> dict | None:
        rows = self.query(sql, params)
        return rows[0] if rows else None

    def scalar(self, sql: str, params: dict | None = None) -> Any:
        row = self.one(sql, params)
        return None if row is None else next(iter(row.values()))

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def check_version(store: Store, where: str) -> None:
    """Refuse a database that is not ours, or was made by another schema version."""
    from evalkit.human.schema import SCHEMA_VERSION

    try:
        version = store.scalar("SELECT value FROM meta WHERE key = 'schema_version'")
    except store.errors:  # no meta table: some other database
        version = None
    if version is None:
        raise UserError(f"{where} is not an evalkit study database; pass the database `evalkit human create` made")
    if int(version) != SCHEMA_VERSION:
        raise UserError(f"{where} holds an evalkit study database of schema {version}, this evalkit reads schema "
                        f"{SCHEMA_VERSION}; recreate the study with `evalkit human create`")
