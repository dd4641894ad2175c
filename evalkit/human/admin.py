"""What the admin view shows: progress of the study and of each rater. Counts only; it never
lists anyone's answers. The token check lives here so the app stays thin."""

from __future__ import annotations

import hmac
import sqlite3
import time

from evalkit.human.db import Study


def token_ok(given: str | None, expected: str | None) -> bool:
    """Constant-time comparison; no configured token means no admin view at all."""
    return bool(given) and bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def overview(conn: sqlite3.Connection, study: Study) -> dict:
    regular, controls = conn.execute(
        "SELECT coalesce(sum(is_control = 0), 0), coalesce(sum(is_control = 1), 0) FROM tasks WHERE study_id = ?",
        (study.id,)).fetchone()
    votes, regular_votes = conn.execute(
        "SELECT count(*), coalesce(sum(t.is_control = 0), 0) FROM votes v JOIN tasks t ON t.id = v.task_id "
        "WHERE t.study_id = ?", (study.id,)).fetchone()
    complete = conn.execute(
        "SELECT count(*) FROM (SELECT t.id FROM tasks t JOIN votes v ON v.task_id = t.id "
        "WHERE t.study_id = ? AND t.is_control = 0 GROUP BY t.id HAVING count(*) >= ?)",
        (study.id, study.ratings_per_task)).fetchone()[0]
    raters = [dict(r) for r in conn.execute(
        "SELECT a.rater_id, count(v.id) AS votes, coalesce(sum(t.is_control AND v.id IS NOT NULL), 0) AS controls, "
        "coalesce(sum(v.control_correct), 0) AS controls_correct, max(v.created_at) AS last_vote, "
        "count(*) - count(v.id) AS open_tasks "
        "FROM assignments a JOIN tasks t ON t.id = a.task_id "
        "LEFT JOIN votes v ON v.task_id = a.task_id AND v.rater_id = a.rater_id "
        "WHERE a.study_id = ? GROUP BY a.rater_id ORDER BY a.rater_id", (study.id,))]
    for r in raters:
        r["last_vote"] = (time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(r["last_vote"]))
                          if r["last_vote"] else "")
    target = regular * study.ratings_per_task
    return {"study": study.name, "models": list(study.runs), "regular_tasks": regular, "control_tasks": controls,
            "ratings_per_task": study.ratings_per_task, "votes": votes, "regular_votes": regular_votes,
            "target_votes": target, "tasks_complete": complete, "raters": raters}
