"""The study database as records: connect (SQLite file or PostgreSQL URL, see store.py),
and read studies, tasks and assignments (a rater's view of a task) as frozen dataclasses."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from evalkit.errors import UserError
from evalkit.human.pairs import TaskSpec
from evalkit.human.store import Store, open_store

KINDS = ("regular", "control", "practice")


def connect(target, *, create: bool = False) -> Store:
    """Open (or with create=True, make) a study database: a file path or a postgresql:// URL."""
    return open_store(str(target), create=create)


@dataclass(frozen=True)
class Study:
    id: int
    name: str
    ratings_per_task: int
    control_rate: float
    images_per_side: int
    tasks_per_rater: int | None
    raters: tuple[str, ...] | None
    claim_seconds: float
    access: str               # open | invite | prolific | mturk
    secret: str               # server-side only: never shown, never logged
    instructions: str | None
    completion_code: str | None
    completion_url: str | None
    runs: tuple[str, ...]     # model names (run ids), in the order given to `create`

    @classmethod
    def from_row(cls, row: dict, runs: list[str]) -> Study:
        raters = json.loads(row["raters"]) if row["raters"] else None
        return cls(row["id"], row["name"], row["ratings_per_task"], row["control_rate"], row["images_per_side"],
                   row["tasks_per_rater"], tuple(raters) if raters is not None else None, row["claim_seconds"],
                   row["access"], row["secret"], row["instructions"], row["completion_code"], row["completion_url"],
                   tuple(runs))


@dataclass(frozen=True)
class Task(TaskSpec):
    """A stored task: the TaskSpec it was made from, with its ids."""

    id: int = field(kw_only=True)
    study_id: int = field(kw_only=True)

    @property
    def is_control(self) -> bool:
        return self.kind == "control"

    @classmethod
    def from_row(cls, row: dict) -> Task:
        return cls(row["prompt_id"], row["caption"], row["category"], row["run_a"], row["run_b"],
                   tuple(json.loads(row["images_a"])), tuple(json.loads(row["images_b"])), row["kind"],
                   json.loads(row["control_answer"]) if row["control_answer"] else None,
                   id=row["id"], study_id=row["study_id"])


@dataclass(frozen=True)
class Assignment:
    """One rater's view of one task: its own side order and opaque token."""

    id: int
    token: str
    rater_id: str
    position: int
    a_left: bool              # run_a's images are shown as set A (left)
    assigned_at: float
    task: Task

    @property
    def left_run(self) -> str:
        return self.task.run_a if self.a_left else self.task.run_b

    @property
    def right_run(self) -> str:
        return self.task.run_b if self.a_left else self.task.run_a

    @property
    def sides(self) -> dict[str, tuple[str, ...]]:
        """The image files of on-screen set "A" (left) and set "B" (right)."""
        t = self.task
        return {"A": t.images_a, "B": t.images_b} if self.a_left else {"A": t.images_b, "B": t.images_a}

    @property
    def right_answer(self) -> str | None:
        """On controls and practice: the on-screen set that is right ("A" or "B")."""
        return None if self.task.control_answer is None else ("A" if self.a_left else "B")


def study_names(store: Store) -> list[str]:
    return [r["name"] for r in store.query("SELECT name FROM studies ORDER BY id")]


def get_study(store: Store, name: str | None = None) -> Study:
    """The named study, or the only one in the database."""
    names = study_names(store)
    if name is None:
        if len(names) != 1:
            raise UserError(f"the database holds {len(names)} studies ({', '.join(names) or 'none'}); "
                            "pick one with --study NAME")
        name = names[0]
    row = store.one("SELECT * FROM studies WHERE name = :name", {"name": name})
    if row is None:
        raise UserError(f"no study named {name!r} in the database (it has: {', '.join(names) or 'none'})")
    runs = [r["run_id"] for r in store.query("SELECT run_id FROM runs WHERE study_id = :s ORDER BY position",
                                             {"s": row["id"]})]
    return Study.from_row(row, runs)


def get_task(store: Store, task_id: int) -> Task:
    row = store.one("SELECT * FROM tasks WHERE id = :id", {"id": task_id})
    if row is None:
        raise KeyError(f"no task {task_id}")
    return Task.from_row(row)


def get_tasks(store: Store, study: Study) -> list[Task]:
    return [Task.from_row(r) for r in store.query("SELECT * FROM tasks WHERE study_id = :s ORDER BY id",
                                                  {"s": study.id})]


_ASSIGNMENT = "SELECT id, token, rater_id, position, a_left, assigned_at, task_id FROM assignments WHERE "


def _assignment(store: Store, row: dict | None) -> Assignment | None:
    if row is None:
        return None
    return Assignment(row["id"], row["token"], row["rater_id"], row["position"], bool(row["a_left"]),
                      row["assigned_at"], get_task(store, row["task_id"]))


def get_assignment(store: Store, study: Study, token: str) -> Assignment | None:
    """The assignment a page token names, in this study; None for an unknown token."""
    return _assignment(store, store.one(_ASSIGNMENT + "token = :token AND study_id = :s",
                                        {"token": str(token), "s": study.id}))


def assignment_of(store: Store, study: Study, rater_id: str, task_id: int) -> Assignment | None:
    return _assignment(store, store.one(_ASSIGNMENT + "study_id = :s AND rater_id = :r AND task_id = :t",
                                        {"s": study.id, "r": rater_id, "t": task_id}))
