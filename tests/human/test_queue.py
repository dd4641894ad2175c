"""Rater queues: resume, ratings-per-task cap, claim expiry, controls at the set rate."""

from __future__ import annotations

import pytest

from evalkit.errors import UserError
from evalkit.human import db
from evalkit.human.queue import held_by_others, next_task, progress
from evalkit.human.study import create_study
from evalkit.human.votes import submit_vote

from .conftest import make_run


def _rate_all(conn, study, rater, answer="A", now=None) -> list:
    done = []
    while (task := next_task(conn, study, rater, now=now)) is not None:
        submit_vote(conn, task.id, rater, answer, answer, f"{rater}-{task.id}", now=now)
        done.append(task)
    return done


def test_resume_returns_the_unanswered_task(study_db):
    conn = db.connect(study_db)
    study = db.get_study(conn)
    first = next_task(conn, study, "alice")
    assert next_task(conn, study, "alice") == first  # a reload shows the same task
    conn2 = db.connect(study_db)  # another browser session of the same rater
    assert next_task(conn2, study, "alice") == first
    submit_vote(conn, first.id, "alice", "B", "tie", "tok-1")
    second = next_task(conn2, study, "alice")
    assert second is not None and second.id != first.id


def test_each_task_gets_its_ratings_and_then_no_more(study_db):
    conn = db.connect(study_db)
    study = db.get_study(conn)  # 6 regular tasks, 3 ratings each, controls at 0.25
    for rater in ("r1", "r2", "r3"):
        tasks = _rate_all(conn, study, rater)
        regular = [t for t in tasks if not t.is_control]
        assert len(regular) == 6 and len({t.id for t in regular}) == 6
    assert next_task(conn, study, "r4") is None  # every task has its 3 ratings
    per_task = conn.execute("SELECT count(*) FROM votes v JOIN tasks t ON t.id = v.task_id WHERE t.is_control = 0 "
                            "GROUP BY v.task_id").fetchall()
    assert [r[0] for r in per_task] == [3] * 6


def test_claims_spread_raters_and_expire(tmp_path, runs):
    path = tmp_path / "s.sqlite"
    study = create_study(path, runs[:2], "one", ratings_per_task=1, control_rate=0, claim_minutes=10)
    conn = db.connect(path)
    seen = [next_task(conn, study, f"r{n}", now=1000.0).id for n in range(6)]
    assert len(set(seen)) == 6  # six raters, six different tasks: nobody waits on a claimed one
    assert next_task(conn, study, "r6", now=1000.0) is None  # all slots held by fresh claims
    assert held_by_others(conn, study, "r6", now=1000.0) == 6  # ... so "come back later", not "all done"
    later = next_task(conn, study, "r6", now=1000.0 + 601)  # claims older than 10 minutes lapse
    assert later is not None and later.id in seen


def test_controls_are_interleaved_at_the_rate(tmp_path):
    prompts = [(f"p-{n:03d}", f"prompt {n}", f"cat-{n % 4}") for n in range(40)]
    runs = [make_run(tmp_path, name, prompts=prompts, images=1, size=16) for name in ("model-a", "model-b")]
    study = create_study(tmp_path / "s.sqlite", runs, "rate", ratings_per_task=2, control_rate=0.2)
    conn = db.connect(tmp_path / "s.sqlite")
    for rater in ("alice", "bob"):
        tasks = _rate_all(conn, study, rater)
        flags = [t.is_control for t in tasks]
        assert flags.count(False) == 40 and flags.count(True) == 10
        for k in range(1, len(flags) + 1):  # every prefix holds about 20% controls
            assert abs(sum(flags[:k]) - 0.2 * k) <= 1.0
        for before, after in zip(tasks, tasks[1:]):  # a control never repeats the prompt just rated
            assert not (after.is_control and after.prompt_id == before.prompt_id)


def test_progress_counts_what_is_left(study_db):
    conn = db.connect(study_db)
    study = db.get_study(conn)
    seen = [progress(conn, study, "alice")]
    while (task := next_task(conn, study, "alice")) is not None:
        seen.append(progress(conn, study, "alice"))  # shown, not yet answered
        submit_vote(conn, task.id, "alice", "A", "A", f"tok-{task.id}")
        seen.append(progress(conn, study, "alice"))
    assert {p.total for p in seen} == {8}  # 6 regular + 2 controls, steady while rating alone
    assert [p.done for p in seen[::2]] == list(range(9))


def test_rater_list_and_ids_are_checked(tmp_path, runs):
    study = create_study(tmp_path / "s.sqlite", runs[:2], "closed", raters=["alice", "bob"])
    conn = db.connect(tmp_path / "s.sqlite")
    assert next_task(conn, study, "alice") is not None
    with pytest.raises(UserError, match="not on this study's list"):
        next_task(conn, study, "mallory")
    with pytest.raises(UserError, match="rater id"):
        next_task(conn, study, "<script>")
