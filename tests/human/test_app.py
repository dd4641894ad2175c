"""The app's logic through streamlit.testing.v1.AppTest (no browser, no server)."""

from __future__ import annotations

import html
import itertools
import re

import pytest

from evalkit.human import db
from evalkit.human.access import invite_link
from evalkit.human.queue import next_assignment
from evalkit.human.serve import APP
from evalkit.human.study import create_study
from evalkit.human.votes import submit_vote

from .conftest import PROMPTS, make_run

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

TOKEN = "s3cret-admin"


@pytest.fixture
def app(study_db, monkeypatch):
    monkeypatch.setenv("EVALKIT_HUMAN_DB", str(study_db))
    monkeypatch.setenv("EVALKIT_HUMAN_ADMIN_TOKEN", TOKEN)
    monkeypatch.delenv("EVALKIT_HUMAN_STUDY", raising=False)

    def make(**query) -> AppTest:
        at = AppTest.from_file(str(APP), default_timeout=30)
        for k, v in query.items():
            at.query_params[k] = v
        return at.run()

    return make


def page(at: AppTest) -> str:
    return "\n".join(h.proto.body for h in at.html)


def notices(at: AppTest) -> list[tuple[str, str]]:
    """(kind, text) of every message box, unescaped: what the rater reads."""
    return [(k, html.unescape(t)) for k, t in re.findall(r'<div class="ek-notice ek-(\w+)" role="\w+">(.*?)</div>',
                                                           page(at))]


def shown_token(at: AppTest) -> str | None:
    found = re.search(r'<div class="ek-task" data-view="([^"]+)"', page(at))
    return found[1] if found else None


def consent(at: AppTest) -> AppTest:
    at.checkbox[0].check()
    return next(b for b in at.button if b.label == "Start").click().run()


def submit(at: AppTest, quality: str | None, alignment: str | None) -> AppTest:
    if quality:
        at.radio[0].set_value(quality)
    if alignment:
        at.radio[1].set_value(alignment)
    return next(b for b in at.button if b.label == "Submit").click().run()


def votes(path, rater):
    with db.connect(path) as store:
        return store.query("SELECT v.*, a.token FROM votes v JOIN assignments a ON a.id = v.assignment_id "
                           "WHERE v.rater_id = :r ORDER BY v.id", {"r": rater})


def test_sign_in_consent_rate_three_tasks_then_resume(app, study_db):
    at = app()
    assert not at.exception and [t.label for t in at.text_input] == ["Your rater id"]
    at = next(b for b in at.button if b.label == "Start rating").click().run()  # nothing typed
    assert notices(at) == [("warning", "Please type your rater id.")]
    at.text_input[0].input("bad id!")
    at = next(b for b in at.button if b.label == "Start rating").click().run()
    assert notices(at) == [("error", "rater id 'bad id!' is not valid; use 1-64 letters, digits, '.', '_', '-', "
                                     "'@' (no spaces)")]
    at.text_input[0].input("alice")
    at = next(b for b in at.button if b.label == "Start rating").click().run()
    assert at.query_params["rater"] in ("alice", ["alice"])  # kept in the URL: a reload resumes
    assert "Image preference study" in at.markdown[0].value and shown_token(at) is None  # instructions first
    at = next(b for b in at.button if b.label == "Start").click().run()  # without ticking the box
    assert notices(at) == [("warning", "Please tick the box to agree before you start.")] and shown_token(at) is None
    at = consent(at)
    assert [r.label for r in at.radio] == ["Which set of images is of higher quality?",
                                           "Which set of images better represents the text caption?"]
    assert list(at.radio[0].options) == ["I prefer set A", "I am indifferent", "I prefer set B"]
    assert at.radio[0].value is None  # no answer pre-selected
    assert len(re.findall(r'<img src="img/[^"]+/A\d"', page(at))) == 2  # two images per model, by opaque URL
    shown = []
    for quality, alignment in (("A", "B"), ("tie", "A"), ("B", "B")):
        token = shown_token(at)
        at = submit(at, quality, alignment)
        assert notices(at)[0] == ("success", "Saved.")
        shown.append((token, quality, alignment))
    assert [(v["token"], v["quality"], v["alignment"]) for v in votes(study_db, "alice")] == shown
    assert re.search(r"<span>3 of (7|8) tasks done</span>", page(at))
    again = app(rater="alice")  # a reload or another day: the same view, nothing lost
    assert shown_token(again) == shown_token(at) and shown_token(at) not in [t for t, _, _ in shown]


def test_incomplete_answers_are_refused(app, study_db):
    at = consent(app(rater="bob"))
    at = submit(at, "A", None)
    assert notices(at) == [("warning", "Please answer both questions, then submit.")]
    assert votes(study_db, "bob") == []


def test_second_tab_cannot_change_the_first_answer(app, study_db):
    tab1 = consent(app(rater="carol"))
    tab2 = app(rater="carol")
    assert shown_token(tab1) == shown_token(tab2)  # the same view in both
    submit(tab1, "A", "A")
    tab2 = submit(tab2, "B", "B")
    assert notices(tab2)[0] == ("success", "Already saved; your first answer stands.")
    assert [(v["quality"], v["alignment"]) for v in votes(study_db, "carol")] == [("A", "A")]


def test_change_rater_in_a_shared_browser_then_submit(app, study_db):
    at = submit(consent(app(rater="erin")), "A", "B")
    at = next(b for b in at.button if b.label == "Not you? Change rater").click().run()
    assert not at.query_params.get("rater") and [t.label for t in at.text_input] == ["Your rater id"]
    at.text_input[0].input("frank")
    at = consent(next(b for b in at.button if b.label == "Start rating").click().run())
    at = submit(at, "tie", "tie")
    assert notices(at)[0] == ("success", "Saved.") and not at.exception
    assert [v["quality"] for v in votes(study_db, "frank")] == ["tie"] and len(votes(study_db, "erin")) == 1


def test_done_and_come_back_later(app, study_db):
    with db.connect(study_db) as store:
        study = db.get_study(store)
        for rater in ("dave",):
            while (view := next_assignment(store, study, rater)) is not None:
                submit_vote(store, study, view.token, "A", "A", rater)
        for n in itertools.count():  # raters who each claim a slot and never answer
            if next_assignment(store, study, f"holder-{n}") is None:
                break
    assert notices(consent(app(rater="dave")))[-1][1].startswith("All done")
    late = consent(app(rater="late"))
    assert notices(late)[-1][1].startswith("No task is free right now") and shown_token(late) is None


def test_admin_view_shows_nothing_before_the_token(app, study_db, monkeypatch):
    from evalkit.human.admin import ADMIN_THROTTLE

    monkeypatch.setattr(ADMIN_THROTTLE, "limit", 3)
    at = app(admin="")
    shown = [h.proto.body for h in at.html if not h.proto.body.startswith("<style>")]
    assert shown == [] and not at.metric and not at.markdown and [t.label for t in at.text_input] == ["Admin token"]
    for wrong in ("wrong-1", "wrong-2"):
        at.text_input[0].input(wrong).run()
        assert notices(at) == [("error", "Wrong token.")] and not at.metric
    at.text_input[0].input(TOKEN).run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["votes"] == "0" and "Study ab (open access)" in page(at)
    locked = app(admin="")
    for wrong in ("w1", "w2", "w3"):
        locked.text_input[0].input(wrong).run()
    assert notices(app(admin=""))[0][1].startswith("Too many wrong tokens")  # throttled, even with the right one
    ADMIN_THROTTLE._locked_until.clear()
    monkeypatch.delenv("EVALKIT_HUMAN_ADMIN_TOKEN")
    assert "admin view is off" in notices(app(admin=""))[0][1]


def test_a_broken_setup_shows_no_path(app, monkeypatch, tmp_path):
    monkeypatch.setenv("EVALKIT_HUMAN_DB", str(tmp_path / "missing.sqlite"))
    at = app(rater="alice")
    assert notices(at) == [("error", "This study is not available right now. Please try again later.")]
    assert str(tmp_path) not in page(at) and not at.exception


def test_the_pinned_study_cannot_be_switched(app, study_db, runs, monkeypatch):
    create_study(study_db, runs[:2], "other")
    monkeypatch.setenv("EVALKIT_HUMAN_STUDY", "ab")
    assert "does not run" in notices(app(rater="alice", study="other"))[0][1]
    assert "does not run" in notices(app(admin="", study="other"))[0][1]
    assert "Image preference study" in app(rater="alice", study="ab").markdown[0].value


def test_user_text_is_shown_literally(tmp_path, monkeypatch):
    tricky = [("p-0", "A :red[red] car :smile: [link](https://evil.example) <b>bold</b> & *stars*", "Colors"),
              ("p-1", "Plain.", "Colors")]
    runs = [make_run(tmp_path, m, prompts=tricky) for m in ("model-a", "model-b")]
    create_study(tmp_path / "s.sqlite", runs, "lit", control_rate=0)
    monkeypatch.setenv("EVALKIT_HUMAN_DB", str(tmp_path / "s.sqlite"))
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.query_params["rater"] = "[x](https://evil.example)"
    at.run()
    assert notices(at)[0][1] == "rater id '[x](https://evil.example)' is not valid; use 1-64 letters, digits, '.', " \
                                "'_', '-', '@' (no spaces)"
    assert "<a " not in page(at)
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.query_params["rater"] = "alice"
    at = consent(at.run())
    while "p-0" not in str(db.get_assignment(db.connect(tmp_path / "s.sqlite"), db.get_study(
            db.connect(tmp_path / "s.sqlite")), shown_token(at)).task.prompt_id):
        at = submit(at, "A", "A")
    body = page(at)
    assert html.escape(tricky[0][1]) in body and "<b>bold</b>" not in body and "<a " not in body
    question = re.search(r'<p class="ek-question">(Which set of images better[^<]*)</p>', body)[1]
    assert html.unescape(question) == f"Which set of images better represents the text caption: {tricky[0][1]}?"


def test_invite_only_study_refuses_bare_ids(tmp_path, monkeypatch):
    runs = [make_run(tmp_path, m, prompts=PROMPTS[:2]) for m in ("model-a", "model-b")]
    study = create_study(tmp_path / "s.sqlite", runs, "inv", access="invite", control_rate=0)
    monkeypatch.setenv("EVALKIT_HUMAN_DB", str(tmp_path / "s.sqlite"))

    def open_link(**query):
        at = AppTest.from_file(str(APP), default_timeout=30)
        for k, v in query.items():
            at.query_params[k] = v
        return at.run()

    assert "by invitation only" in notices(open_link(rater="alice"))[0][1]
    assert "not valid" in notices(open_link(rater="alice", sig="AAAAAAAAAAAAAAAAAAAAAA"))[0][1]
    sig = invite_link(study, "http://h", "alice").rsplit("sig=", 1)[1]
    at = consent(open_link(rater="alice", sig=sig))
    assert shown_token(at) is not None and not any(b.label.startswith("Not you") for b in at.button)


def test_crowd_session_ends_with_the_completion_code(tmp_path, monkeypatch):
    runs = [make_run(tmp_path, m, prompts=PROMPTS[:2]) for m in ("model-a", "model-b")]
    create_study(tmp_path / "s.sqlite", runs, "pro", access="prolific", control_rate=0, completion_code="CC42")
    monkeypatch.setenv("EVALKIT_HUMAN_DB", str(tmp_path / "s.sqlite"))
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.query_params.update({"PROLIFIC_PID": "abc123", "STUDY_ID": "s1", "SESSION_ID": "x1"})
    at = consent(at.run())
    at = submit(submit(at, "A", "A"), "B", "B")
    body = page(at)
    assert '<code class="ek-code">CC42</code>' in body
    assert 'href="https://app.prolific.com/submissions/complete?cc=CC42"' in body
    assert [v["rater_id"] for v in votes(tmp_path / "s.sqlite", "prolific-abc123")] == ["prolific-abc123"] * 2
