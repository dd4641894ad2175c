"""What the admin view shows: progress of the study and of each rater. Counts only; it never
lists anyone's answers. The token check and its throttle live here so the app stays thin."""

from __future__ import annotations

import hmac
import threading
import time

from evalkit.human.db import Study
from evalkit.human.store import Store


def token_ok(given: str | None, expected: str | None) -> bool:
    """Constant-time comparison; no configured token means no admin view at all."""
    return bool(given) and bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


class Throttle:
    """Wrong admin tokens per client: after `limit` failures within `window` seconds, the
    client is refused for `lockout` seconds (per app process; thread-safe)."""

    def __init__(self, limit: int = 5, window: float = 600.0, lockout: float = 600.0, clock=time.monotonic):
        self.limit, self.window, self.lockout, self.clock = limit, window, lockout, clock
        self._failures: dict[str, list[float]] = {}
        self._locked_until: dict[str, float] = {}
        self._guard = threading.Lock()

    def wait(self, client: str) -> float:
        """Seconds until this client may try again (0: now)."""
        with self._guard:
            return max(0.0, self._locked_until.get(client, 0.0) - self.clock())

    def fail(self, client: str) -> None:
        with self._guard:
            now = self.clock()
            recent = [t for t in self._failures.get(client, []) if now - t < self.window] + [now]
            self._failures[client] = recent
            if len(recent) >= self.limit:
                self._locked_until[client] = now + self.lockout
                self._failures[client] = []

    def succeed(self, client: str) -> None:
        with self._guard:
            self._failures.pop(client, None)


ADMIN_THROTTLE = Throttle()  # module state: survives Streamlit's reruns of the app script

_RATERS = """
SELECT r.rater_id, r.source, r.consented_at IS NOT NULL AS consented,
       count(v.id) FILTER (WHERE t.kind <> 'practice') AS votes,
       count(v.id) FILTER (WHERE t.kind = 'control') AS controls,
       coalesce(sum(v.control_correct) FILTER (WHERE t.kind = 'control'), 0) AS controls_correct,
       max(v.created_at) AS last_vote,
       count(a.id) FILTER (WHERE v.id IS NULL) AS open_tasks
FROM raters r
LEFT JOIN assignments a ON a.study_id = r.study_id AND a.rater_id = r.rater_id
LEFT JOIN tasks t ON t.id = a.task_id
LEFT JOIN votes v ON v.assignment_id = a.id
WHERE r.study_id = :s GROUP BY r.rater_id, r.source, r.consented_at ORDER BY r.rater_id
"""


def overview(store: Store, study: Study) -> dict:
    p = {"s": study.id, "cap": study.ratings_per_task}
    kinds = store.one("SELECT count(*) FILTER (WHERE kind = 'regular') AS regular, count(*) FILTER (WHERE kind = "
                      "'control') AS controls FROM tasks WHERE study_id = :s", p)
    votes = store.one("SELECT count(*) FILTER (WHERE t.kind <> 'practice') AS votes, count(*) FILTER (WHERE t.kind = "
                      "'regular') AS regular FROM votes v JOIN tasks t ON t.id = v.task_id WHERE t.study_id = :s", p)
    complete = store.scalar("SELECT count(*) FROM (SELECT t.id FROM tasks t JOIN votes v ON v.task_id = t.id WHERE "
                            "t.study_id = :s AND t.kind = 'regular' GROUP BY t.id HAVING count(*) >= :cap) AS full_tasks", p)
    raters = store.query(_RATERS, p)
    for r in raters:
        r["consented"] = bool(r["consented"])
        r["last_vote"] = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(r["last_vote"])) if r["last_vote"] else ""
    regular = int(kinds["regular"])
    return {"study": study.name, "access": study.access, "models": list(study.runs), "regular_tasks": regular,
            "control_tasks": int(kinds["controls"]), "ratings_per_task": study.ratings_per_task,
            "votes": int(votes["votes"]), "regular_votes": int(votes["regular"]),
            "target_votes": regular * study.ratings_per_task, "tasks_complete": int(complete), "raters": raters}
