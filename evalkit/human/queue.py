"""Each rater's queue. A rater first gets back any task they were shown but did not answer
(so a refresh or a return next day resumes there); otherwise a new task is claimed inside a
write transaction: the regular task with the fewest ratings (votes plus fresh unanswered
claims) below the study's ratings-per-task, in the rater's own shuffled order, with a control
task served instead whenever the rater's share of controls falls below the control rate."""

from __future__ import annotations

import math
import sqlite3
import time
from dataclasses import dataclass

from evalkit.errors import UserError
from evalkit.human.db import Study, Task, get_task, shuffle_key, write_transaction
from evalkit.human.names import check_rater_id

_OPEN = """
SELECT a.task_id FROM assignments a
WHERE a.study_id = :study AND a.rater_id = :rater
  AND NOT EXISTS (SELECT 1 FROM votes v WHERE v.task_id = a.task_id AND v.rater_id = a.rater_id)
ORDER BY a.position LIMIT 1
"""

# Regular tasks this rater has not had, with their load: votes + claims still fresh.
_AVAILABLE = """
WITH load AS (
  SELECT t.id AS task_id,
         (SELECT count(*) FROM votes v WHERE v.task_id = t.id)
       + (SELECT count(*) FROM assignments a WHERE a.task_id = t.id AND a.assigned_at > :fresh
            AND NOT EXISTS (SELECT 1 FROM votes v WHERE v.task_id = a.task_id AND v.rater_id = a.rater_id)) AS n
  FROM tasks t
  WHERE t.study_id = :study AND t.is_control = 0
    AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.task_id = t.id AND a.rater_id = :rater)
)
SELECT task_id, n FROM load WHERE n < :cap
"""

_UNSEEN_CONTROLS = """
SELECT t.id FROM tasks t
WHERE t.study_id = :study AND t.is_control = 1
  AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.task_id = t.id AND a.rater_id = :rater)
"""


def check_rater(study: Study, rater_id: str) -> str:
    rater_id = check_rater_id(rater_id)
    if study.raters is not None and rater_id not in study.raters:
        raise UserError(f"rater id {rater_id!r} is not on this study's list of raters; check the id you were given")
    return rater_id


def _params(study: Study, rater_id: str, now: float) -> dict:
    return {"study": study.id, "rater": rater_id, "fresh": now - study.claim_seconds, "cap": study.ratings_per_task,
            "seed": study.seed}


def _control_due(study: Study, rater_id: str, position: int, controls_so_far: int) -> bool:
    """Controls at the study's rate, evenly spread, with a per-rater phase so raters cannot
    learn that 'every tenth task is a test'."""
    if study.control_rate <= 0:
        return False
    phase = shuffle_key(study.seed, rater_id, "control-phase") / 2**63
    return controls_so_far < math.floor((position + 1) * study.control_rate + phase)


def _claim(conn: sqlite3.Connection, study: Study, rater_id: str, now: float) -> int | None:
    p = _params(study, rater_id, now)
    row = conn.execute(_OPEN, p).fetchone()
    if row is not None:  # another tab of this rater claimed one meanwhile
        return row[0]
    regular = conn.execute(
        f"SELECT task_id FROM ({_AVAILABLE}) ORDER BY n, shuffle_key(:seed, :rater, task_id) LIMIT 1", p
    ).fetchone()
    if regular is None:
        return None  # nothing left for this rater: done (controls alone are not served)
    position, controls = conn.execute(
        "SELECT count(*), coalesce(sum(t.is_control), 0) FROM assignments a JOIN tasks t ON t.id = a.task_id "
        "WHERE a.study_id = :study AND a.rater_id = :rater", p).fetchone()
    task_id = regular[0]
    if _control_due(study, rater_id, position, controls):
        # not the prompt just rated: a control right after its own prompt would stand out
        last = conn.execute("SELECT t.prompt_id FROM assignments a JOIN tasks t ON t.id = a.task_id WHERE a.study_id = "
                            ":study AND a.rater_id = :rater ORDER BY a.position DESC LIMIT 1", p).fetchone()
        control = conn.execute(f"{_UNSEEN_CONTROLS} ORDER BY t.prompt_id = :last, shuffle_key(:seed, :rater, t.id) "
                               "LIMIT 1", {**p, "last": last[0] if last else None}).fetchone()
        task_id = control[0] if control is not None else task_id
    conn.execute("INSERT INTO assignments(study_id, rater_id, position, task_id, assigned_at) VALUES (?, ?, ?, ?, ?)",
                 (study.id, rater_id, position, task_id, now))
    return task_id


def next_task(conn: sqlite3.Connection, study: Study, rater_id: str, now: float | None = None) -> Task | None:
    """The task to show this rater now, or None when they have rated everything open to them."""
    rater_id = check_rater(study, rater_id)
    now = time.time() if now is None else now
    row = conn.execute(_OPEN, _params(study, rater_id, now)).fetchone()
    if row is None:
        with write_transaction(conn):
            task_id = _claim(conn, study, rater_id, now)
        if task_id is None:
            return None
    else:
        task_id = row[0]
    return get_task(conn, task_id)


def held_by_others(conn: sqlite3.Connection, study: Study, rater_id: str, now: float | None = None) -> int:
    """Regular tasks this rater could still get once other raters' unanswered claims lapse."""
    p = _params(study, rater_id, time.time() if now is None else now)
    return conn.execute(f"SELECT count(*) FROM ({_AVAILABLE})", {**p, "fresh": float("inf")}).fetchone()[0]


@dataclass(frozen=True)
class Progress:
    done: int   # votes this rater has given in the study
    total: int  # done + what is still open to them (other raters filling tasks can lower it)


def progress(conn: sqlite3.Connection, study: Study, rater_id: str, now: float | None = None) -> Progress:
    now = time.time() if now is None else now
    p = _params(study, rater_id, now)
    done = conn.execute("SELECT count(*) FROM votes v JOIN tasks t ON t.id = v.task_id "
                        "WHERE t.study_id = :study AND v.rater_id = :rater", p).fetchone()[0]
    pending = 1 if conn.execute(_OPEN, p).fetchone() else 0
    regular = conn.execute(f"SELECT count(*) FROM ({_AVAILABLE})", p).fetchone()[0]
    unseen = conn.execute(f"SELECT count(*) FROM ({_UNSEEN_CONTROLS})", p).fetchone()[0]
    position, controls = conn.execute(
        "SELECT count(*), coalesce(sum(t.is_control), 0) FROM assignments a JOIN tasks t ON t.id = a.task_id "
        "WHERE a.study_id = :study AND a.rater_id = :rater", p).fetchone()
    extra, left = 0, regular  # replay the claim rule over the regular tasks left to count the controls among them
    while left > 0:
        if extra < unseen and _control_due(study, rater_id, position, controls + extra):
            extra += 1
        else:
            left -= 1
        position += 1
    return Progress(done, done + pending + regular + extra)
