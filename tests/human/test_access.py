"""Identity and access: signed invitations, crowd-platform ids, completion, the admin throttle."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

import pytest

from evalkit.errors import UserError
from evalkit.human import db
from evalkit.human.access import Preview, completion, identify, invite_link, signature
from evalkit.human.admin import Throttle, token_ok
from evalkit.human.study import create_study


@pytest.fixture
def study(tmp_path, runs):
    return create_study(tmp_path / "s.sqlite", runs[:2], "inv", access="invite")


def _query(link: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(link).query).items()}


def test_invitation_links_are_hmacs_of_the_study_secret(study):
    link = invite_link(study, "https://rate.example.org/", "alice")
    assert link.startswith("https://rate.example.org/?rater=alice&sig=")
    params = _query(link)
    expected = hmac.new(bytes.fromhex(study.secret), b"invite\0inv\0alice", hashlib.sha256).digest()[:16]
    assert base64.urlsafe_b64decode(params["sig"] + "==") == expected  # HMAC-SHA256, truncated to 128 bits
    assert identify(study, params).rater_id == "alice" and identify(study, params).source == "invite"
    assert "inv" not in link.split("?", 1)[1]  # the study name (it may name the models) is not in the link


def test_forged_and_bare_invitations_are_refused(study):
    good = _query(invite_link(study, "http://h", "alice"))
    forged = [{"rater": "alice"},                                    # a bare ?rater=
              {"rater": "bob", "sig": good["sig"]},                  # alice's signature on bob
              {"rater": "alice", "sig": good["sig"][:-1] + ("A" if good["sig"][-1] != "A" else "B")},
              {"rater": "alice", "sig": signature(replace(study, secret="00" * 32), "alice")}]  # another secret
    for params in forged:
        with pytest.raises(UserError, match="invitation"):
            identify(study, params)


def test_open_studies_take_typed_ids_and_their_list(tmp_path, runs):
    open_study = create_study(tmp_path / "o.sqlite", runs[:2], "open", raters=("alice", "bob"))
    assert identify(open_study, {}) is None  # ask for an id
    assert identify(open_study, {"rater": "bob"}).source == "typed"
    with pytest.raises(UserError, match="not on this study's list"):
        identify(open_study, {"rater": "mallory"})
    with pytest.raises(UserError, match="not valid"):
        identify(open_study, {"rater": "[link](https://evil.example)"})


def test_prolific_ids_and_completion(tmp_path, runs):
    study = create_study(tmp_path / "p.sqlite", runs[:2], "pro", access="prolific", completion_code="C0DE123")
    params = {"PROLIFIC_PID": "5f1e2d3c4b5a69788796a5b4", "STUDY_ID": "abc123", "SESSION_ID": "s-1", "rater": "x"}
    who = identify(study, params)
    assert (who.rater_id, who.source) == ("prolific-5f1e2d3c4b5a69788796a5b4", "prolific")
    assert who.external == {"STUDY_ID": "abc123", "SESSION_ID": "s-1"}
    done = completion(study, who)
    assert (done.code, done.url) == ("C0DE123", "https://app.prolific.com/submissions/complete?cc=C0DE123")
    for bad in ({}, {"rater": "alice"}, {"PROLIFIC_PID": "x y"}):
        with pytest.raises(UserError, match="PROLIFIC_PID"):
            identify(study, bad)


def test_mturk_ids_preview_and_return(tmp_path, runs):
    study = create_study(tmp_path / "m.sqlite", runs[:2], "turk", access="mturk", completion_code="OK42")
    with pytest.raises(Preview):
        identify(study, {"assignmentId": "ASSIGNMENT_ID_NOT_AVAILABLE", "hitId": "H1"})
    who = identify(study, {"workerId": "A1B2C3", "assignmentId": "3XYZ", "hitId": "H1",
                           "turkSubmitTo": "https://workersandbox.mturk.com"})
    assert who.rater_id == "mturk-A1B2C3"
    assert completion(study, who).url == ("https://workersandbox.mturk.com/mturk/externalSubmit?"
                                          "assignmentId=3XYZ&completion_code=OK42")
    evil = identify(study, {"workerId": "A1B2C3", "assignmentId": "3XYZ", "turkSubmitTo": "https://evil.example"})
    assert completion(study, evil).url.startswith("https://www.mturk.com/")  # never an open redirect


def test_admin_token_and_throttle():
    assert token_ok("t0k", "t0k") and not token_ok("t0k", "tok") and not token_ok("", "") and not token_ok("x", None)
    now = [0.0]
    throttle = Throttle(limit=3, window=60, lockout=300, clock=lambda: now[0])
    for _ in range(2):
        throttle.fail("1.2.3.4")
    assert throttle.wait("1.2.3.4") == 0
    throttle.fail("1.2.3.4")
    assert throttle.wait("1.2.3.4") == 300 and throttle.wait("5.6.7.8") == 0  # per client
    now[0] = 301
    assert throttle.wait("1.2.3.4") == 0
    throttle.fail("1.2.3.4")
    now[0] = 400  # failures older than the window do not add up
    throttle.fail("1.2.3.4")
    throttle.fail("1.2.3.4")
    assert throttle.wait("1.2.3.4") == 0


def test_invite_command_writes_links(tmp_path, runs, capsys):
    from .test_human_cli import run

    path = tmp_path / "s.sqlite"
    create_study(path, runs[:2], "inv", access="invite")
    assert run(["human", "invite", "--db", str(path), "--url", "http://h:1", "--raters", "alice,bob"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "rater_id,link" and [line.split(",")[0] for line in lines[1:]] == ["alice", "bob"]
    with db.connect(path) as store:
        study = db.get_study(store)
    assert identify(study, _query(lines[1].split(",", 1)[1])).rater_id == "alice"
    assert run(["human", "invite", "--db", str(path), "--url", "http://h", "--count", "3", "-o", str(tmp_path / "links.csv")]) == 0
    ids = [line.split(",")[0] for line in (tmp_path / "links.csv").read_text().splitlines()[1:]]
    assert len(set(ids)) == 3 and all(i.startswith("r-") for i in ids)
    with pytest.raises(UserError, match="either --raters"):
        run(["human", "invite", "--db", str(path), "--url", "http://h"])
