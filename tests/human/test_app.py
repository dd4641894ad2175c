"""The app's logic through streamlit.testing.v1.AppTest (no browser, no server)."""

from __future__ import annotations

import itertools

import pytest

from evalkit.human import db
from evalkit.human.queue import next_task
from evalkit.human.serve import APP
from evalkit.human.votes import submit_vote

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

TOKEN = "s3cret-admin"


@pytest.fixture
def app(study_db, monkeypatch):
    monkeypatch.setenv("EVALKIT_HUMAN_DB", str(study_db))
    monkeypatch.setenv("EVALKIT_HUMAN_ADMIN_TOKEN", TOKEN)

    def make(**query) -> AppTest:
        at = AppTest.from_file(str(APP), default_timeout=30)
        for k, v in query.items():
            at.query_params[k] = v
        return at.run()

    return make


def _submit(at: AppTest) -> AppTest:
    return next(b for b in at.button if b.label == "Submit").click().run()


def _shown_task(at: AppTest, study_db):
    """The task the page shows: the rater's open assignment in the database."""
    conn = db.connect(study_db)
    rater = at.query_params["rater"][0] if isinstance(at.query_params["rater"], list) else at.query_params["rater"]
    task = next_task(conn, db.get_study(conn), rater)
    conn.close()
    assert at.markdown[0].value.startswith("#### Caption: ")
    return task


def _votes(study_db, rater):
    conn = db.connect(study_db)
    rows = [dict(r) for r in conn.execute("SELECT * FROM votes WHERE rater_id = ? ORDER BY id", (rater,))]
    conn.close()
    return rows


def test_sign_in_then_rate_three_tasks_then_resume(app, study_db):
    at = app()
    assert not at.exception and [t.label for t in at.text_input] == ["Your rater id"]
    at.text_input[0].input("bad id!")
    at = next(b for b in at.button if b.label == "Start rating").click().run()
    assert "not valid" in at.error[0].value
    at.text_input[0].input("alice")
    at = next(b for b in at.button if b.label == "Start rating").click().run()
    assert at.query_params["rater"] in ("alice", ["alice"])  # kept in the URL: a reload resumes
    assert [r.label for r in at.radio][0] == "Which set of images is of higher quality?"
    assert at.radio[1].label.startswith("Which set of images better represents the text caption: ")
    assert [o for o in at.radio[0].options] == ["I prefer set A", "I am indifferent", "I prefer set B"]
    assert at.radio[0].value is None  # no answer pre-selected
    assert [s.value for s in at.subheader] == ["Set A", "Set B"]
    sides = at.get("image")
    assert [len(side.proto.imgs) for side in sides] == [2, 2]  # two images per model in the fixture
    assert all(img.url.endswith(".png") for side in sides for img in side.proto.imgs)  # no lossy re-encoding

    shown = []
    for quality, alignment in (("A", "B"), ("tie", "A"), ("B", "B")):
        task = _shown_task(at, study_db)
        at.radio[0].set_value(quality)
        at.radio[1].set_value(alignment)
        at = _submit(at)
        assert at.success[0].value.startswith("Saved")
        shown.append((task, quality, alignment))
    votes = _votes(study_db, "alice")
    assert [(v["task_id"], v["quality"], v["alignment"]) for v in votes] == [(t.id, q, a) for t, q, a in shown]
    for v, (t, q, a) in zip(votes, shown):
        if not t.is_control:
            assert v["quality_winner"] == {"A": t.left_run, "B": t.right_run, "tie": "tie"}[q]
    assert at.get("progress")[0].proto.text.startswith("Rater alice: 3 of ")

    fourth = _shown_task(at, study_db)
    again = app(rater="alice")  # a reload or another day: same task, nothing lost
    assert _shown_task(again, study_db).id == fourth.id
    assert again.markdown[0].value == at.markdown[0].value


def test_incomplete_answers_are_refused(app, study_db):
    at = app(rater="bob")
    at.radio[0].set_value("A")
    at = _submit(at)
    assert at.warning[0].value == "Please answer both questions, then submit."
    assert _votes(study_db, "bob") == []


def test_second_tab_cannot_change_the_first_answer(app, study_db):
    tab1, tab2 = app(rater="carol"), app(rater="carol")
    assert tab1.markdown[0].value == tab2.markdown[0].value  # same task in both
    tab1.radio[0].set_value("A"), tab1.radio[1].set_value("A")
    tab2.radio[0].set_value("B"), tab2.radio[1].set_value("B")
    _submit(tab1)
    tab2 = _submit(tab2)
    assert tab2.success[0].value == "Already saved; your first answer stands."
    assert [(v["quality"], v["alignment"]) for v in _votes(study_db, "carol")] == [("A", "A")]


def test_done_message_when_queue_is_empty(app, study_db):
    conn = db.connect(study_db)
    study = db.get_study(conn)
    while (task := next_task(conn, study, "dave")) is not None:
        submit_vote(conn, task.id, "dave", "A", "A", f"d-{task.id}")
    conn.close()
    at = app(rater="dave")
    assert at.success[0].value.startswith("All done") and not at.radio


def test_come_back_later_while_others_hold_the_tasks(app, study_db):
    conn = db.connect(study_db)
    study = db.get_study(conn)
    for n in itertools.count():  # raters who each claim a slot and never answer
        if next_task(conn, study, f"holder-{n}") is None:
            break
    conn.close()
    at = app(rater="late")
    assert at.info[0].value.startswith("No task is free right now") and not at.success


def test_admin_view_needs_the_token(app, study_db, monkeypatch):
    conn = db.connect(study_db)
    study = db.get_study(conn)
    task = next_task(conn, study, "erin")
    submit_vote(conn, task.id, "erin", "B", "B", "e-1")
    conn.close()
    at = app(admin="")
    assert not at.metric
    at.text_input[0].input("wrong").run()
    assert at.error[0].value == "Wrong token." and not at.metric
    at.text_input[0].input(TOKEN).run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["votes"] == "1" and metrics["raters"] == "1"
    table = at.dataframe[0].value
    assert list(table["rater_id"]) == ["erin"] and "quality" not in table.columns  # counts, never answers
    monkeypatch.delenv("EVALKIT_HUMAN_ADMIN_TOKEN")
    assert "admin view is off" in app(admin="").error[0].value


def test_missing_database_is_reported(app, monkeypatch, tmp_path):
    monkeypatch.setenv("EVALKIT_HUMAN_DB", str(tmp_path / "missing.sqlite"))
    at = app(rater="alice")
    assert "no study database" in at.error[0].value and not at.exception
