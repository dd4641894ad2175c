"""Building a study from runs: pairing over shared prompts, recorded sides, controls."""

from __future__ import annotations

from collections import Counter

import pytest
from PIL import Image

from evalkit.errors import UserError
from evalkit.human import db
from evalkit.human.controls import control_count
from evalkit.human.pairs import build_pair_tasks
from evalkit.human.runs import load_run, load_runs
from evalkit.human.study import controls_dir, create_study

from .conftest import PROMPTS, make_run


def test_load_run_groups_images_by_prompt(runs):
    run = load_run(runs[0])
    assert run.run_id == "model-a"
    assert list(run.prompts) == [p[0] for p in PROMPTS]
    p = run.prompts["drawbench-002"]
    assert p.category == "Counting" and p.caption.startswith("Three cats")
    assert [img.rsplit("/", 1)[1] for img in p.images] == ["0.png", "1.png"]


def test_not_a_run_and_duplicate_runs_are_user_errors(tmp_path, runs):
    with pytest.raises(UserError, match="not a finished run directory"):
        load_run(tmp_path)
    with pytest.raises(UserError, match="given twice"):
        load_runs([runs[0], runs[0]])
    with pytest.raises(UserError, match="at least two runs"):
        load_runs([runs[0]])


def test_an_image_changed_since_the_run_is_refused(runs):
    image = runs[0] / "images" / "drawbench-002" / "1.png"
    Image.new("RGB", (64, 64), (0, 0, 0)).save(image)  # a valid PNG, but not the one the metrics scored
    with pytest.raises(UserError, match=r"1\.png does not match the sha256 in .*samples\.parquet"):
        load_run(runs[0])
    image.write_bytes(image.read_bytes()[:40])  # truncated: corrupt
    with pytest.raises(UserError, match="does not match the sha256"):
        load_runs(runs)


def test_pairs_cover_shared_prompts_in_runs_order(runs):
    loaded = load_runs(runs)
    tasks = build_pair_tasks(loaded, images_per_side=1)
    pairs = Counter((t.run_a, t.run_b) for t in tasks)
    # a-b share 6 prompts; model-c lacks one, so a-c and b-c share 5; run_a is the one named first
    assert pairs == {("model-a", "model-b"): 6, ("model-a", "model-c"): 5, ("model-b", "model-c"): 5}
    for t in tasks:  # sides are not chosen here: they are drawn per rater when shown
        assert len(t.images_a) == len(t.images_b) == 1
        assert f"/{t.run_a}/" in t.images_a[0] and f"/{t.run_b}/" in t.images_b[0]


def test_both_sets_get_the_same_number_of_images(tmp_path):
    short = make_run(tmp_path, "model-a", images=3)
    long = make_run(tmp_path, "model-b", images=5)
    tasks = build_pair_tasks(load_runs([short, long]), images_per_side=8)
    assert {(len(t.images_a), len(t.images_b)) for t in tasks} == {(3, 3)}  # a count must not tell the sides apart


def test_images_per_side_is_capped_at_eight(runs):
    with pytest.raises(UserError, match="1..8"):
        build_pair_tasks(load_runs(runs), images_per_side=9)


def test_no_shared_prompts_is_a_user_error(tmp_path, runs):
    other = make_run(tmp_path / "other", "model-x", prompts=[("parti-0001", "A cat.", "Animals")])
    with pytest.raises(UserError, match="share no prompt ids"):
        create_study(tmp_path / "s.sqlite", [runs[0], other], "x")
    assert not (tmp_path / "s.sqlite").exists()  # nothing half made


def test_create_study_stores_tasks_and_controls(target, runs):
    study = create_study(target, runs, "abc", ratings_per_task=2, control_rate=0.2, images_per_side=2, practice=True)
    assert study.runs == ("model-a", "model-b", "model-c") and len(study.secret) == 64
    conn = db.connect(target)
    tasks = db.get_tasks(conn, study)
    regular = [t for t in tasks if t.kind == "regular"]
    controls = [t for t in tasks if t.kind == "control"]
    assert len(regular) == 16 and len(controls) == control_count(16, 0.2) == 4
    assert [t.control_answer["question"] for t in tasks if t.kind == "practice"] == ["quality"]
    for c in controls:
        assert c.run_a == c.run_b  # one model on both sides
        answer = c.control_answer
        good, bad = c.images_a, c.images_b  # set a holds the right answer
        if answer["question"] == "quality":
            assert answer["kind"] == "degraded"
            for g, b in zip(good, bad):
                assert b.startswith(str(controls_dir(target, "abc")))
                assert Image.open(b).size == Image.open(g).size
        else:
            other = answer["kind"].split(":", 1)[1]
            assert other != c.prompt_id and all(f"/{other}/" in b for b in bad)
            assert all(f"/{c.prompt_id}/" in g for g in good)
    assert {c.control_answer["question"] for c in controls} == {"quality", "alignment"}
    with pytest.raises(UserError, match="already exists"):
        create_study(target, runs, "abc")
    # a second study can live in the same database; then the name must be given
    other = create_study(target, runs[:2], "ab")
    assert other.secret != study.secret
    with pytest.raises(UserError, match="pick one with --study"):
        db.get_study(conn, None)
    assert db.get_study(conn, "ab").runs == ("model-a", "model-b")
    conn.close()


def test_sqlite_store_is_in_wal_mode(tmp_path, runs):
    create_study(tmp_path / "s.sqlite", runs[:2], "ab")
    with db.connect(tmp_path / "s.sqlite") as store:
        assert store.scalar("PRAGMA journal_mode") == "wal"


def test_bad_settings_are_user_errors(tmp_path, runs):
    for kwargs, message in (({"control_rate": 0.9}, "control-rate"), ({"ratings_per_task": 0}, "ratings-per-task"),
                            ({"raters": ["a b"]}, "rater id"), ({"tasks_per_rater": 0}, "tasks-per-rater"),
                            ({"access": "public"}, "--access must be one of"),
                            ({"access": "prolific"}, "needs --completion-code"),
                            ({"completion_url": "javascript:alert(1)"}, "not an http"),
                            ({"completion_code": "a b"}, "completion-code")):
        with pytest.raises(UserError, match=message):
            create_study(tmp_path / "s.sqlite", runs, "x", **kwargs)
    with pytest.raises(UserError, match="study name"):
        create_study(tmp_path / "s.sqlite", runs, "no spaces")


def test_not_a_study_database(tmp_path):
    with pytest.raises(UserError, match="no study database"):
        db.connect(tmp_path / "missing.sqlite")
    bogus = tmp_path / "bogus.sqlite"
    bogus.write_bytes(b"not sqlite at all" * 100)
    with pytest.raises(UserError, match="not an evalkit study database"):
        db.connect(bogus)
