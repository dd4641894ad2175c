"""Each rater's queue. A rater first gets back any task they were shown but did not answer
(a refresh or a return next day resumes there); otherwise a new task is claimed inside a
write transaction (serialised per study on every backend): the practice task first if the
study has one, then the regular task with the fewest ratings (votes plus fresh unanswered
claims) below ratings-per-task, in the rater's own secret order, with a control task
instead whenever the rater's share of controls falls below the control rate.

The claim is also where blinding happens: the side order of this rater's view is drawn
from the operating system's secret random source, balanced so each task is shown both
ways as equally as its number of views allows, and the view gets a random token."""

from __future__ import annotations

import math
import secrets
import time
from dataclasses import dataclass

from evalkit.human.db import Assignment, Study, get_assignment
from evalkit.human.keys import order_key, unit
from evalkit.human.names import check_rater_id
from evalkit.human.store import Store

_OPEN = """
SELECT a.token FROM assignments a
WHERE a.study_id = :study AND a.rater_id = :rater
  AND NOT EXISTS (SELECT 1 FROM votes v WHERE v.assignment_id = a.id)
ORDER BY a.position LIMIT 1
"""

# Regular tasks this rater has not had, with their load (votes + claims still fresh) below the cap.
_AVAILABLE = """
WITH load AS (
  SELECT t.id AS task_id,
         (SELECT count(*) FROM votes v WHERE v.task_id = t.id)
       + (SELECT count(*) FROM assignments a WHERE a.task_id = t.id AND a.assigned_at > :fresh
            AND NOT EXISTS (SELECT 1 FROM votes v WHERE v.assignment_id = a.id)) AS n
  FROM tasks t
  WHERE t.study_id = :study AND t.kind = 'regular'
    AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.task_id = t.id AND a.rater_id = :rater)
)
SELECT task_id, n FROM load WHERE n < :cap
"""

_UNSEEN = """
SELECT t.id AS task_id, t.prompt_id FROM tasks t
WHERE t.study_id = :study AND t.kind = :kind
  AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.task_id = t.id AND a.rater_id = :rater)
"""

_MINE = """
SELECT count(*) FILTER (WHERE t.kind <> 'practice') AS position,
       count(*) FILTER (WHERE t.kind = 'control') AS controls,
       count(*) FILTER (WHERE t.kind = 'regular') AS regular,
       count(*) AS shown
FROM assignments a JOIN tasks t ON t.id = a.task_id WHERE a.study_id = :study AND a.rater_id = :rater
"""


def _params(study: Study, rater_id: str, now: float) -> dict:
    return {"study": study.id, "rater": rater_id, "fresh": now - study.claim_seconds, "cap": study.ratings_per_task}


def _quota(study: Study) -> float:
    return math.inf if study.tasks_per_rater is None else study.tasks_per_rater


def _control_due(study: Study, phase: float, position: int, controls_so_far: int) -> bool:
    """Controls at the study's rate, evenly spread, with a secret per-rater phase so raters
    cannot learn that 'every tenth task is a test'."""
    return study.control_rate > 0 and controls_so_far < math.floor((position + 1) * study.control_rate + phase)


def _phase(study: Study, rater_id: str) -> float:
    return unit(study.secret, "control-phase", rater_id)


def _draw_side(store: Store, task_id: int) -> int:
    """1: run_a on the left. The side shown less often so far, a secret coin flip on a tie."""
    row = store.one("SELECT count(*) AS n, coalesce(sum(a_left), 0) AS a_left FROM assignments WHERE task_id = :t",
                    {"t": task_id})
    n, a_left = int(row["n"]), int(row["a_left"])
    return int(2 * a_left < n) if 2 * a_left != n else secrets.randbelow(2)


def _pick(store: Store, study: Study, rater_id: str, p: dict) -> int | None:
    """The task to claim next (see the module docstring), or None when there is none."""
    mine = store.one(_MINE, p)
    if mine["shown"] == 0 and (practice := store.one(_UNSEEN, {**p, "kind": "practice"})) is not None:
        return practice["task_id"]
    available = store.query(_AVAILABLE, p) if mine["regular"] < _quota(study) else []
    if not available:
        return None  # nothing left for this rater: done (controls alone are not served)
    task_id = min(available, key=lambda r: (r["n"], order_key(study.secret, "order", rater_id, r["task_id"])))["task_id"]
    if _control_due(study, _phase(study, rater_id), mine["position"], mine["controls"]):
        # not the prompt just rated: a control right after its own prompt would stand out
        last = store.scalar("SELECT t.prompt_id FROM assignments a JOIN tasks t ON t.id = a.task_id WHERE "
                            "a.study_id = :study AND a.rater_id = :rater ORDER BY a.position DESC LIMIT 1", p)
        controls = [r for r in store.query(_UNSEEN, {**p, "kind": "control"}) if r["prompt_id"] != last]
        if controls:  # none left but of that prompt: the control waits for the next task
            task_id = min(controls, key=lambda r: order_key(study.secret, "order", rater_id, r["task_id"]))["task_id"]
    return task_id


def _claim(store: Store, study: Study, rater_id: str, now: float) -> str | None:
    p = _params(study, rater_id, now)
    token = store.scalar(_OPEN, p)
    if token is not None:  # another tab of this rater claimed one meanwhile
        return token
    task_id = _pick(store, study, rater_id, p)
    if task_id is None:
        return None
    token = secrets.token_urlsafe(16)
    store.execute("INSERT INTO assignments(study_id, rater_id, position, task_id, token, a_left, assigned_at) "
                  "VALUES (:study, :rater, (SELECT count(*) FROM assignments WHERE study_id = :study AND "
                  "rater_id = :rater), :task, :token, :a_left, :now)",
                  {**p, "task": task_id, "token": token, "a_left": _draw_side(store, task_id), "now": now})
    return token


def next_assignment(store: Store, study: Study, rater_id: str, now: float | None = None) -> Assignment | None:
    """This rater's view of the task to show now, or None when nothing is open to them."""
    rater_id = check_rater_id(rater_id)
    now = time.time() if now is None else now
    token = store.scalar(_OPEN, _params(study, rater_id, now))
    if token is None:
        with store.transaction(lock=study.id):
            token = _claim(store, study, rater_id, now)
        if token is None:
            return None
    return get_assignment(store, study, token)


def held_by_others(store: Store, study: Study, rater_id: str, now: float | None = None) -> int:
    """Regular tasks this rater could still get once other raters' unanswered claims lapse."""
    p = _params(study, rater_id, time.time() if now is None else now)
    if store.one(_MINE, p)["regular"] >= _quota(study):
        return 0
    return len(store.query(_AVAILABLE, {**p, "fresh": math.inf}))


@dataclass(frozen=True)
class Progress:
    done: int       # votes this rater has given (the practice task not counted)
    total: int      # the rater's planned tasks: fixed for the study, so it never jumps
    practice: bool  # the open task is the practice task


def planned_tasks(study: Study, rater_id: str, n_regular: int, n_controls: int) -> int:
    """Regular tasks in the rater's quota plus the controls the claim rule puts among them (one
    more than served when the last control waited out a repeated prompt at the very end)."""
    regular_left = min(_quota(study), n_regular)
    phase, position, controls = _phase(study, rater_id), 0, 0
    while regular_left > 0:
        if controls < n_controls and _control_due(study, phase, position, controls):
            controls += 1
        else:
            regular_left -= 1
        position += 1
    return int(min(_quota(study), n_regular)) + controls


def progress(store: Store, study: Study, rater_id: str) -> Progress:
    p = {"study": study.id, "rater": rater_id}
    done = store.scalar("SELECT count(*) FROM votes v JOIN tasks t ON t.id = v.task_id "
                        "WHERE t.study_id = :study AND v.rater_id = :rater AND t.kind <> 'practice'", p)
    kinds = store.one("SELECT count(*) FILTER (WHERE kind = 'regular') AS regular, count(*) FILTER (WHERE kind = "
                      "'control') AS controls FROM tasks WHERE study_id = :study", p)
    open_kind = store.scalar("SELECT t.kind FROM assignments a JOIN tasks t ON t.id = a.task_id WHERE a.study_id = "
                             ":study AND a.rater_id = :rater AND NOT EXISTS (SELECT 1 FROM votes v WHERE "
                             "v.assignment_id = a.id)", p)
    total = planned_tasks(study, rater_id, int(kinds["regular"]), int(kinds["controls"]))
    return Progress(int(done), total, open_kind == "practice")
