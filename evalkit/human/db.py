"""The study database, shared by the app and the CLI: SQLite in WAL mode (readers never
block the one writer), a busy timeout instead of "database is locked" errors, and write
transactions taken with BEGIN IMMEDIATE so two writers queue rather than deadlock."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from evalkit.errors import UserError
from evalkit.human.schema import SCHEMA, SCHEMA_VERSION

BUSY_TIMEOUT_MS = 30_000

# Writers in one process (the app serves every browser session from a thread) queue on a
# lock per database file instead of polling SQLite's busy handler, which sleeps in steps
# of up to 100 ms; other processes still wait through busy_timeout.
_WRITE_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


class _Connection(sqlite3.Connection):
    write_lock: threading.Lock


def _write_lock(path: Path) -> threading.Lock:
    key = str(path.resolve())
    with _LOCKS_GUARD:
        return _WRITE_LOCKS.setdefault(key, threading.Lock())


def connect(path: str | Path, *, create: bool = False) -> _Connection:
    """Open (or with create=True, make) a study database. Autocommit mode: every write goes
    through `write_transaction`. One connection per thread."""
    path = Path(path)
    if not create and not path.is_file():
        raise UserError(f"no study database at {path}; make one with `evalkit human create`")
    if create:
        path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False,
                           factory=_Connection)
    conn.row_factory = sqlite3.Row
    conn.write_lock = _write_lock(path)
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")  # a committed vote survives a power cut
        conn.execute("PRAGMA foreign_keys = ON")
        conn.create_function("shuffle_key", 3, shuffle_key, deterministic=True)
        if create:  # one transaction: a second process creating at once sees all tables or none
            conn.executescript(f"BEGIN IMMEDIATE; {SCHEMA}; INSERT OR IGNORE INTO meta(key, value) "
                               f"VALUES ('schema_version', '{SCHEMA_VERSION}'); COMMIT;")
        _check_version(conn, path)
    except (sqlite3.DatabaseError, UserError) as err:
        conn.close()
        if isinstance(err, UserError):
            raise
        raise UserError(f"{path} is not an evalkit study database ({err}); pass the file `evalkit human create` made") from None
    return conn


def shuffle_key(seed: int, rater_id: str, item: int | str) -> int:
    """A stable pseudo-random sort key: each rater gets their own order of the tasks."""
    digest = hashlib.blake2b(f"{seed}:{rater_id}:{item}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1  # fits SQLite's signed 64-bit integer


def _check_version(conn: sqlite3.Connection, path: Path) -> None:
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except sqlite3.OperationalError:  # no meta table: some other SQLite file
        row = None
    if row is None or int(row[0]) != SCHEMA_VERSION:
        raise UserError(f"{path} is not an evalkit study database (schema {SCHEMA_VERSION}); "
                        "pass the file `evalkit human create` made")


@contextmanager
def write_transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE takes the write lock up front (waiting up to the busy timeout), so a
    read-then-write never fails half way because another writer slipped in."""
    with conn.write_lock:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")


@dataclass(frozen=True)
class Study:
    id: int
    name: str
    ratings_per_task: int
    control_rate: float
    images_per_side: int
    seed: int
    raters: tuple[str, ...] | None
    claim_seconds: float
    runs: tuple[str, ...]  # model names (run ids), in the order given to `create`

    @classmethod
    def from_row(cls, row: sqlite3.Row, runs: list[str]) -> Study:
        raters = json.loads(row["raters"]) if row["raters"] else None
        return cls(row["id"], row["name"], row["ratings_per_task"], row["control_rate"], row["images_per_side"],
                   row["seed"], tuple(raters) if raters is not None else None, row["claim_seconds"], tuple(runs))


@dataclass(frozen=True)
class Task:
    id: int
    study_id: int
    prompt_id: str
    caption: str
    category: str
    left_run: str
    right_run: str
    left_images: tuple[str, ...]
    right_images: tuple[str, ...]
    is_control: bool
    control_answer: dict | None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Task:
        return cls(row["id"], row["study_id"], row["prompt_id"], row["caption"], row["category"], row["left_run"],
                   row["right_run"], tuple(json.loads(row["left_images"])), tuple(json.loads(row["right_images"])),
                   bool(row["is_control"]), json.loads(row["control_answer"]) if row["control_answer"] else None)


def study_names(conn: sqlite3.Connection) -> list[str]:
    return [r[0] for r in conn.execute("SELECT name FROM studies ORDER BY id")]


def get_study(conn: sqlite3.Connection, name: str | None = None) -> Study:
    """The named study, or the only one in the database."""
    names = study_names(conn)
    if name is None:
        if len(names) != 1:
            raise UserError(f"the database holds {len(names)} studies ({', '.join(names) or 'none'}); pick one with --study NAME")
        name = names[0]
    row = conn.execute("SELECT * FROM studies WHERE name = ?", (name,)).fetchone()
    if row is None:
        raise UserError(f"no study named {name!r} in the database (it has: {', '.join(names) or 'none'})")
    runs = [r[0] for r in conn.execute("SELECT run_id FROM runs WHERE study_id = ? ORDER BY position", (row["id"],))]
    return Study.from_row(row, runs)


def get_task(conn: sqlite3.Connection, task_id: int) -> Task:
    row = conn.execute("SELECT * FROM tasks WHERE id = ?", (task_id,)).fetchone()
    if row is None:
        raise KeyError(f"no task {task_id}")
    return Task.from_row(row)


def get_tasks(conn: sqlite3.Connection, study: Study) -> list[Task]:
    return [Task.from_row(r) for r in conn.execute("SELECT * FROM tasks WHERE study_id = ? ORDER BY id", (study.id,))]
