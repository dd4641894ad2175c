"""Storing a vote, exactly once. The insert is `ON CONFLICT DO NOTHING` against
UNIQUE(task_id, rater_id) and the unique submission token, so a double click, a resent form
or a second tab stores nothing new; the first answer stands."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass

from evalkit.errors import UserError
from evalkit.human.db import Task, get_task, write_transaction

ANSWERS = ("A", "tie", "B")  # "I prefer set A" / "I am indifferent" / "I prefer set B"
QUESTIONS = ("quality", "alignment")


@dataclass(frozen=True)
class SubmitResult:
    stored: bool  # False: this rater had already voted on the task; nothing changed
    vote_id: int


def winner(task: Task, answer: str) -> str:
    """De-randomise an on-screen answer: the winning run id, or 'tie'."""
    return {"A": task.left_run, "B": task.right_run, "tie": "tie"}[answer]


def control_correct(task: Task, quality: str, alignment: str) -> int | None:
    if not task.is_control or not task.control_answer:
        return None
    given = {"quality": quality, "alignment": alignment}[task.control_answer["question"]]
    return int(given == task.control_answer["answer"])


def submit_vote(conn: sqlite3.Connection, task_id: int, rater_id: str, quality: str, alignment: str,
                token: str, now: float | None = None) -> SubmitResult:
    """Record a rater's answers to a task in their queue; idempotent."""
    for question, answer in (("quality", quality), ("alignment", alignment)):
        if answer not in ANSWERS:
            raise UserError(f"{question} answer must be one of {', '.join(ANSWERS)}, got {answer!r}")
    if not token or len(token) > 128:
        raise UserError("a vote needs a submission token of 1-128 characters")
    now = time.time() if now is None else now
    task = get_task(conn, task_id)
    known = conn.execute("SELECT id FROM votes WHERE task_id = ? AND rater_id = ?", (task_id, rater_id)).fetchone()
    if known is not None:  # a repeat: answered without taking the write lock
        return SubmitResult(False, known[0])
    with write_transaction(conn):
        shown = conn.execute("SELECT assigned_at FROM assignments WHERE task_id = ? AND rater_id = ?",
                             (task_id, rater_id)).fetchone()
        if shown is None:
            raise UserError(f"task {task_id} is not in rater {rater_id!r}'s queue; a rater can only vote on tasks shown to them")
        regular = not task.is_control
        cur = conn.execute(
            "INSERT INTO votes(task_id, rater_id, quality, alignment, quality_winner, alignment_winner, control_correct, "
            "submission_token, seconds, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (task_id, rater_id, quality, alignment, winner(task, quality) if regular else None,
             winner(task, alignment) if regular else None, control_correct(task, quality, alignment), token,
             max(0.0, now - shown[0]), now))
        if cur.rowcount == 1:
            return SubmitResult(True, cur.lastrowid)
        row = conn.execute("SELECT id FROM votes WHERE task_id = ? AND rater_id = ?", (task_id, rater_id)).fetchone()
        if row is None:  # the token belongs to another vote: a client bug, never a user's doing
            raise RuntimeError(f"submission token {token!r} was already used for a different vote")
        return SubmitResult(False, row[0])
