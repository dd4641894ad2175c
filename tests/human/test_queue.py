"""Rater queues on both backends: resume, ratings-per-task cap, claim expiry, controls at the
set rate, balanced secret side orders, a stable progress denominator, quotas, practice."""

from __future__ import annotations

import pytest

from evalkit.errors import UserError
from evalkit.human import db
from evalkit.human.queue import held_by_others, next_assignment, progress
from evalkit.human.study import create_study
from evalkit.human.votes import submit_vote

from .conftest import make_run


def _rate_all(store, study, rater, answer="A", now=None) -> list:
    done = []
    while (a := next_assignment(store, study, rater, now=now)) is not None:
        submit_vote(store, study, a.token, answer, answer, rater, now=now)
        done.append(a)
    return done


def test_resume_returns_the_unanswered_task(study_db):
    with db.connect(study_db) as store, db.connect(study_db) as other_tab:
        study = db.get_study(store)
        first = next_assignment(store, study, "alice")
        assert next_assignment(store, study, "alice") == first  # a reload shows the same view
        assert next_assignment(other_tab, study, "alice") == first  # another browser session of the same rater
        submit_vote(store, study, first.token, "B", "tie", "alice")
        second = next_assignment(other_tab, study, "alice")
        assert second is not None and second.task.id != first.task.id and second.token != first.token


def test_each_task_gets_its_ratings_and_then_no_more(study_db):
    with db.connect(study_db) as store:
        study = db.get_study(store)  # 6 regular tasks, 3 ratings each, controls at 0.25
        for rater in ("r1", "r2", "r3"):
            regular = [a for a in _rate_all(store, study, rater) if a.task.kind == "regular"]
            assert len(regular) == 6 and len({a.task.id for a in regular}) == 6
        assert next_assignment(store, study, "r4") is None  # every task has its 3 ratings
        per_task = store.query("SELECT count(*) AS n FROM votes v JOIN tasks t ON t.id = v.task_id "
                               "WHERE t.kind = 'regular' GROUP BY v.task_id")
        assert [r["n"] for r in per_task] == [3] * 6


def test_side_orders_are_balanced_per_task_and_tokens_unique(target, runs):
    study = create_study(target, runs[:2], "bal", ratings_per_task=4, control_rate=0.25)
    with db.connect(target) as store:
        views = [a for rater in ("r1", "r2", "r3", "r4") for a in _rate_all(store, study, rater)]
        by_task: dict[tuple, list[bool]] = {}
        for a in views:
            by_task.setdefault((a.task.kind, a.task.id), []).append(a.a_left)
        for (kind, _), sides in by_task.items():  # each regular task has 4 views: 2 each way; a control, any number
            assert abs(sides.count(True) - sides.count(False)) <= (0 if kind == "regular" else 1)
        assert len({a.token for a in views}) == len(views)  # one opaque token per view


def test_claims_spread_raters_and_expire(target, runs):
    study = create_study(target, runs[:2], "one", ratings_per_task=1, control_rate=0, claim_minutes=10)
    with db.connect(target) as store:
        seen = [next_assignment(store, study, f"r{n}", now=1000.0).task.id for n in range(6)]
        assert len(set(seen)) == 6  # six raters, six different tasks: nobody waits on a claimed one
        assert next_assignment(store, study, "r6", now=1000.0) is None  # all slots held by fresh claims
        assert held_by_others(store, study, "r6", now=1000.0) == 6  # ... so "come back later", not "all done"
        later = next_assignment(store, study, "r6", now=1000.0 + 601)  # claims older than 10 minutes lapse
        assert later is not None and later.task.id in seen


def test_controls_are_interleaved_at_the_rate(tmp_path):
    prompts = [(f"p-{n:03d}", f"prompt {n}", f"cat-{n % 4}") for n in range(40)]
    runs = [make_run(tmp_path, name, prompts=prompts, images=1, size=16) for name in ("model-a", "model-b")]
    study = create_study(tmp_path / "s.sqlite", runs, "rate", ratings_per_task=2, control_rate=0.2)
    with db.connect(tmp_path / "s.sqlite") as store:
        for rater in ("alice", "bob"):
            views = _rate_all(store, study, rater)
            flags = [a.task.kind == "control" for a in views]
            # 20% of the ~50 tasks: 10 controls, or 9 when the secret phase puts the 10th after the last task
            assert flags.count(False) == 40 and flags.count(True) in (9, 10)
            # the plan was right (or one over: a last control that would have repeated the prompt just rated)
            assert progress(store, study, rater).total - len(views) in (0, 1)
            for k in range(1, len(flags) + 1):  # every prefix holds about 20% controls
                assert abs(sum(flags[:k]) - 0.2 * k) <= 1.0
            for before, after in zip(views, views[1:]):  # a control never repeats the prompt just rated
                assert not (after.task.kind == "control" and after.task.prompt_id == before.task.prompt_id)


def test_progress_has_a_stable_denominator_while_others_rate(study_db):
    with db.connect(study_db) as store:
        study = db.get_study(store)
        seen, views = [progress(store, study, "alice")], 0
        while (a := next_assignment(store, study, "alice")) is not None:
            views += 1
            seen.append(progress(store, study, "alice"))  # shown, not yet answered
            submit_vote(store, study, a.token, "A", "A", "alice")
            seen.append(progress(store, study, "alice"))
            if (b := next_assignment(store, study, "bob")) is not None:  # bob fills tasks meanwhile
                submit_vote(store, study, b.token, "B", "B", "bob")
        # 6 regular + the controls alice's (secret) phase puts among them, fixed from the start (one over
        # when the last control waited out a repeated prompt at the very end; the page then shows "All done")
        totals = {p.total for p in seen}
        assert len(totals) == 1 and totals.pop() - views in (0, 1) and views in (7, 8)
        assert [p.done for p in seen[::2]] == list(range(views + 1))


def test_quota_and_practice(target, runs):
    study = create_study(target, runs[:2], "quota", ratings_per_task=2, control_rate=0.25, tasks_per_rater=3,
                         practice=True)
    with db.connect(target) as store:
        first = next_assignment(store, study, "alice")
        assert first.task.kind == "practice" and progress(store, study, "alice").practice
        views = _rate_all(store, study, "alice")
        kinds = [a.task.kind for a in views]
        assert kinds.count("practice") == 1 and kinds.count("regular") == 3  # the quota, then done
        shown = progress(store, study, "alice")
        assert shown.done == len(views) - 1 and not shown.practice  # the practice is not counted
        assert shown.total - shown.done in (0, 1)  # as planned (one over: a control that would repeat the prompt)
        assert held_by_others(store, study, "alice") == 0  # done, not "come back later"


def test_rater_ids_are_checked(study_db):
    with db.connect(study_db) as store:
        study = db.get_study(store)
        with pytest.raises(UserError, match="rater id"):
            next_assignment(store, study, "<script>")
