"""Storing a vote, exactly once. A vote names the assignment it answers by the page's opaque
token; the insert is `ON CONFLICT DO NOTHING` against UNIQUE(assignment_id) and
UNIQUE(task_id, rater_id), so a double click, a resent form or a second tab stores nothing
new: the first answer stands. Winners are de-randomised with the side order that rater saw."""

from __future__ import annotations

import time
from dataclasses import dataclass

from evalkit.errors import UserError
from evalkit.human.db import Assignment, Study, get_assignment
from evalkit.human.store import Store

ANSWERS = ("A", "tie", "B")  # "I prefer set A" / "I am indifferent" / "I prefer set B"
QUESTIONS = ("quality", "alignment")


@dataclass(frozen=True)
class SubmitResult:
    stored: bool  # False: this rater had already voted on the task; nothing changed
    vote_id: int
    assignment: Assignment


def winner(assignment: Assignment, answer: str) -> str:
    """De-randomise an on-screen answer: the winning run id, or 'tie'."""
    return {"A": assignment.left_run, "B": assignment.right_run, "tie": "tie"}[answer]


def control_correct(assignment: Assignment, quality: str, alignment: str) -> int | None:
    """1/0 on control and practice tasks (only the question the control is built for counts)."""
    answer = assignment.task.control_answer
    if answer is None:
        return None
    given = {"quality": quality, "alignment": alignment}[answer["question"]]
    return int(given == assignment.right_answer)


def submit_vote(store: Store, study: Study, token: str, quality: str, alignment: str, rater_id: str | None = None,
                now: float | None = None) -> SubmitResult:
    """Record the answers to the view `token` names (checked to be rater_id's, when given); idempotent."""
    for question, answer in (("quality", quality), ("alignment", alignment)):
        if answer not in ANSWERS:
            raise UserError(f"{question} answer must be one of {', '.join(ANSWERS)}, got {answer!r}")
    a = get_assignment(store, study, token)
    if a is None or (rater_id is not None and a.rater_id != rater_id):
        raise UserError("this task is not in your queue; reload the page to get your current task")
    key = {"t": a.task.id, "r": a.rater_id}
    known = store.scalar("SELECT id FROM votes WHERE task_id = :t AND rater_id = :r", key)
    if known is not None:  # a repeat: answered without taking the write lock
        return SubmitResult(False, known, a)
    now = time.time() if now is None else now
    regular = a.task.kind == "regular"
    with store.transaction():
        vote_id = store.scalar(
            "INSERT INTO votes(assignment_id, task_id, rater_id, quality, alignment, quality_winner, alignment_winner, "
            "control_correct, seconds, created_at) VALUES (:a, :t, :r, :q, :al, :qw, :aw, :cc, :sec, :now) "
            "ON CONFLICT DO NOTHING RETURNING id",
            {**key, "a": a.id, "q": quality, "al": alignment, "qw": winner(a, quality) if regular else None,
             "aw": winner(a, alignment) if regular else None, "cc": control_correct(a, quality, alignment),
             "sec": max(0.0, now - a.assigned_at), "now": now})
    if vote_id is not None:
        return SubmitResult(True, vote_id, a)
    return SubmitResult(False, store.scalar("SELECT id FROM votes WHERE task_id = :t AND rater_id = :r", key), a)
