"""Votes, on both backends: de-randomised winners, idempotent submits, immutable rows."""

from __future__ import annotations

from dataclasses import replace

import pytest

from evalkit.errors import UserError
from evalkit.human import db
from evalkit.human.queue import next_assignment
from evalkit.human.votes import control_correct, submit_vote, winner


def _regular(store, study, rater):
    """Vote on controls until a regular task comes up; its assignment."""
    while (a := next_assignment(store, study, rater)).task.kind != "regular":
        submit_vote(store, study, a.token, "A", "A", rater)
    return a


def test_answers_are_stored_as_seen_and_de_randomised(study_db):
    with db.connect(study_db) as store:
        study = db.get_study(store)
        a = _regular(store, study, "alice")
        assert submit_vote(store, study, a.token, "A", "B", "alice").stored
        row = store.one("SELECT * FROM votes WHERE assignment_id = :a", {"a": a.id})
        assert (row["quality"], row["alignment"]) == ("A", "B")
        assert (row["quality_winner"], row["alignment_winner"]) == (a.left_run, a.right_run)
        assert {a.left_run, a.right_run} == {a.task.run_a, a.task.run_b} and a.left_run != a.right_run
        assert row["control_correct"] is None and row["seconds"] >= 0


def test_double_submit_and_resubmit_are_no_ops(study_db):
    with db.connect(study_db) as store:
        study = db.get_study(store)
        a = _regular(store, study, "alice")
        first = submit_vote(store, study, a.token, "tie", "A", "alice")
        again = submit_vote(store, study, a.token, "tie", "A", "alice")  # double click
        changed = submit_vote(store, study, a.token, "B", "B", "alice")  # a second tab, another answer
        assert first.stored and not again.stored and not changed.stored
        assert again.vote_id == changed.vote_id == first.vote_id
        rows = store.query("SELECT quality, alignment FROM votes WHERE task_id = :t AND rater_id = 'alice'",
                           {"t": a.task.id})
        assert rows == [{"quality": "tie", "alignment": "A"}]  # the first answer stands


def test_votes_cannot_be_changed_or_deleted(study_db):
    with db.connect(study_db) as store:
        study = db.get_study(store)
        a = _regular(store, study, "alice")
        submit_vote(store, study, a.token, "A", "A", "alice")
        for sql, verb in (("UPDATE votes SET quality = 'B'", "changed"), ("DELETE FROM votes", "deleted")):
            with pytest.raises(store.errors, match=f"votes are final: they cannot be {verb}"):
                store.execute(sql)
        assert store.scalar("SELECT quality FROM votes") == "A"


def test_a_rater_can_only_vote_on_their_own_tasks(study_db):
    with db.connect(study_db) as store:
        study = db.get_study(store)
        a = next_assignment(store, study, "alice")
        with pytest.raises(UserError, match="not in your queue"):
            submit_vote(store, study, a.token, "A", "A", "bob")  # alice's page, bob's session
        with pytest.raises(UserError, match="not in your queue"):
            submit_vote(store, study, "forged-token-123", "A", "A", "alice")
        with pytest.raises(UserError, match="quality answer"):
            submit_vote(store, study, a.token, "left", "A", "alice")
        assert store.scalar("SELECT count(*) FROM votes") == 0


def test_control_answers_are_scored_by_the_side_each_rater_saw(study_db):
    with db.connect(study_db) as store:
        study = db.get_study(store)
        scored = []
        for rater in ("carol", "dave"):
            while (a := next_assignment(store, study, rater)) is not None:
                if a.task.kind == "control":
                    right = a.right_answer
                    answer = right if not scored else ("B" if right == "A" else "A")
                    q, al = (answer, "tie") if a.task.control_answer["question"] == "quality" else ("tie", answer)
                    submit_vote(store, study, a.token, q, al, rater)
                    scored.append(answer == right)
                else:
                    submit_vote(store, study, a.token, "A", "A", rater)
        got = [r["control_correct"] for r in store.query(
            "SELECT control_correct FROM votes WHERE control_correct IS NOT NULL ORDER BY id")]
        assert got == [int(s) for s in scored] and len(got) >= 2  # each rater meets a control by their 4th task
        assert store.scalar("SELECT count(*) FROM votes v JOIN tasks t ON t.id = v.task_id "
                            "WHERE t.kind = 'control' AND v.quality_winner IS NOT NULL") == 0


def test_winner_and_control_answer_follow_the_side_order_seen(study_db):
    with db.connect(study_db) as store:
        study = db.get_study(store)
        control = next(t for t in db.get_tasks(store, study) if t.kind == "control")
        regular = next(t for t in db.get_tasks(store, study) if t.kind == "regular")
    view = db.Assignment(1, "tok", "alice", 0, True, 0.0, regular)
    flipped = replace(view, a_left=False)
    assert (winner(view, "A"), winner(view, "B"), winner(flipped, "A")) == (regular.run_a, regular.run_b, regular.run_b)
    question = control.control_answer["question"]
    answers = {"quality": ("A", "tie"), "alignment": ("tie", "A")}[question]  # "set A" to the scored question
    assert control_correct(replace(view, task=control), *answers) == 1  # set a (intact) shown as A
    assert control_correct(replace(flipped, task=control), *answers) == 0  # ... shown as B
    assert control_correct(view, "A", "A") is None
