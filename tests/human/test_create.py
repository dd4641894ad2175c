"""Building a study from runs: pairing over shared prompts, recorded sides, controls."""

from __future__ import annotations

import random
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


def test_pairs_cover_shared_prompts_with_random_recorded_sides(runs):
    loaded = load_runs(runs)
    tasks = build_pair_tasks(loaded, images_per_side=1, rng=random.Random(0))
    pairs = Counter(frozenset((t.left_run, t.right_run)) for t in tasks)
    # a-b share 6 prompts; model-c lacks one, so a-c and b-c share 5
    assert pairs == {frozenset({"model-a", "model-b"}): 6, frozenset({"model-a", "model-c"}): 5,
                     frozenset({"model-b", "model-c"}): 5}
    assert {t.left_run for t in tasks} == {"model-a", "model-b", "model-c"}  # sides really vary
    for t in tasks:
        assert len(t.left_images) == len(t.right_images) == 1
        assert f"/{t.left_run}/" in t.left_images[0] and f"/{t.right_run}/" in t.right_images[0]


def test_images_per_side_is_capped_at_eight(runs):
    with pytest.raises(UserError, match="1..8"):
        build_pair_tasks(load_runs(runs), images_per_side=9, rng=random.Random(0))


def test_no_shared_prompts_is_a_user_error(tmp_path, runs):
    other = make_run(tmp_path / "other", "model-x", prompts=[("parti-0001", "A cat.", "Animals")])
    with pytest.raises(UserError, match="share no prompt ids"):
        create_study(tmp_path / "s.sqlite", [runs[0], other], "x")
    assert not (tmp_path / "s.sqlite").exists()  # nothing half made


def test_create_study_stores_tasks_and_controls(tmp_path, runs):
    path = tmp_path / "s.sqlite"
    study = create_study(path, runs, "abc", ratings_per_task=2, control_rate=0.2, images_per_side=2, seed=3)
    assert study.runs == ("model-a", "model-b", "model-c")
    conn = db.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tasks = db.get_tasks(conn, study)
    regular = [t for t in tasks if not t.is_control]
    controls = [t for t in tasks if t.is_control]
    assert len(regular) == 16 and len(controls) == control_count(16, 0.2) == 4
    for c in controls:
        assert c.left_run == c.right_run  # one model on both sides
        answer = c.control_answer
        good, bad = (c.left_images, c.right_images) if answer["answer"] == "A" else (c.right_images, c.left_images)
        if answer["question"] == "quality":
            assert answer["kind"] == "degraded"
            for g, b in zip(good, bad):
                assert b.startswith(str(controls_dir(path, "abc")))
                assert Image.open(b).size == Image.open(g).size
        else:
            other = answer["kind"].split(":", 1)[1]
            assert other != c.prompt_id and all(f"/{other}/" in b for b in bad)
            assert all(f"/{c.prompt_id}/" in g for g in good)
    assert {c.control_answer["question"] for c in controls} == {"quality", "alignment"}
    with pytest.raises(UserError, match="already exists"):
        create_study(path, runs, "abc")
    # a second study can live in the same database; then the name must be given
    create_study(path, runs[:2], "ab")
    with pytest.raises(UserError, match="pick one with --study"):
        db.get_study(conn, None)
    assert db.get_study(conn, "ab").runs == ("model-a", "model-b")
    conn.close()


def test_bad_settings_are_user_errors(tmp_path, runs):
    for kwargs, message in (({"control_rate": 0.9}, "control-rate"), ({"ratings_per_task": 0}, "ratings-per-task"),
                            ({"raters": ["a b"]}, "rater id")):
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
