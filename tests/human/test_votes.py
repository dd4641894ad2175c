"""Votes: de-randomised winners, idempotent submits, immutable rows."""

from __future__ import annotations

import sqlite3

import pytest

from evalkit.errors import UserError
from evalkit.human import db
from evalkit.human.queue import next_task
from evalkit.human.votes import submit_vote


def _regular_task(conn, study, rater):
    """Vote on controls until a regular task comes up."""
    while (task := next_task(conn, study, rater)).is_control:
        submit_vote(conn, task.id, rater, "A", "A", f"skip-{task.id}")
    return task


def test_answers_are_stored_as_seen_and_de_randomised(study_db):
    conn = db.connect(study_db)
    study = db.get_study(conn)
    task = _regular_task(conn, study, "alice")
    assert submit_vote(conn, task.id, "alice", "A", "B", "tok").stored
    row = conn.execute("SELECT * FROM votes WHERE submission_token = 'tok'").fetchone()
    assert (row["quality"], row["alignment"]) == ("A", "B")
    assert (row["quality_winner"], row["alignment_winner"]) == (task.left_run, task.right_run)
    assert row["control_correct"] is None and row["seconds"] >= 0


def test_double_submit_and_resubmit_are_no_ops(study_db):
    conn = db.connect(study_db)
    study = db.get_study(conn)
    task = _regular_task(conn, study, "alice")
    first = submit_vote(conn, task.id, "alice", "tie", "A", "tok-1")
    again = submit_vote(conn, task.id, "alice", "tie", "A", "tok-1")  # double click
    changed = submit_vote(conn, task.id, "alice", "B", "B", "tok-2")  # refresh, new form, other answer
    assert first.stored and not again.stored and not changed.stored
    assert again.vote_id == changed.vote_id == first.vote_id
    rows = conn.execute("SELECT quality, alignment FROM votes WHERE task_id = ? AND rater_id = 'alice'",
                        (task.id,)).fetchall()
    assert [tuple(r) for r in rows] == [("tie", "A")]  # the first answer stands


def test_votes_cannot_be_changed_or_deleted(study_db):
    conn = db.connect(study_db)
    study = db.get_study(conn)
    task = _regular_task(conn, study, "alice")
    submit_vote(conn, task.id, "alice", "A", "A", "tok")
    for sql in ("UPDATE votes SET quality = 'B'", "DELETE FROM votes"):
        with pytest.raises(sqlite3.DatabaseError, match="votes are final"):
            conn.execute(sql)
    assert conn.execute("SELECT quality FROM votes").fetchone()[0] == "A"


def test_a_rater_can_only_vote_on_their_own_tasks(study_db):
    conn = db.connect(study_db)
    study = db.get_study(conn)
    task = next_task(conn, study, "alice")
    with pytest.raises(UserError, match="not in rater 'bob'"):
        submit_vote(conn, task.id, "bob", "A", "A", "tok-bob")
    with pytest.raises(UserError, match="quality answer"):
        submit_vote(conn, task.id, "alice", "left", "A", "tok")
    assert conn.execute("SELECT count(*) FROM votes").fetchone()[0] == 0


def test_control_answers_are_scored(study_db):
    conn = db.connect(study_db)
    study = db.get_study(conn)
    scored = []
    while (task := next_task(conn, study, "carol")) is not None:
        if task.is_control:
            right = task.control_answer["answer"]
            wrong = "B" if right == "A" else "A"
            answer = right if not scored else wrong
            q, a = (answer, "tie") if task.control_answer["question"] == "quality" else ("tie", answer)
            submit_vote(conn, task.id, "carol", q, a, f"c-{task.id}")
            scored.append(answer == right)
        else:
            submit_vote(conn, task.id, "carol", "A", "A", f"c-{task.id}")
    got = [r[0] for r in conn.execute("SELECT control_correct FROM votes WHERE control_correct IS NOT NULL ORDER BY id")]
    assert got == [int(s) for s in scored] and len(got) == 2
    assert conn.execute("SELECT count(*) FROM votes v JOIN tasks t ON t.id = v.task_id "
                        "WHERE t.is_control = 1 AND v.quality_winner IS NOT NULL").fetchone()[0] == 0
