"""Create a study: read the runs, build the paired and control tasks, store it all in one
transaction (a crash leaves no half-made study)."""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

from evalkit.errors import UserError
from evalkit.human import db
from evalkit.human.controls import build_control_tasks, control_count
from evalkit.human.names import check_rater_id, check_study_name
from evalkit.human.pairs import MAX_IMAGES_PER_SIDE, build_pair_tasks
from evalkit.human.runs import load_runs


def controls_dir(db_path: str | Path, study_name: str) -> Path:
    """Where a study's degraded control images live: controls/<study>/ beside the database."""
    return Path(db_path).resolve().parent / "controls" / study_name


def create_study(db_path: str | Path, run_paths: list[str | Path], name: str, *, ratings_per_task: int = 3,
                 control_rate: float = 0.1, images_per_side: int = MAX_IMAGES_PER_SIDE, seed: int = 0,
                 raters: list[str] | None = None, claim_minutes: float = 30.0) -> db.Study:
    check_study_name(name)
    if ratings_per_task < 1:
        raise UserError(f"--ratings-per-task must be at least 1, got {ratings_per_task}")
    if claim_minutes <= 0:
        raise UserError(f"--claim-minutes must be positive, got {claim_minutes}")
    raters = [check_rater_id(r) for r in raters] if raters else None
    runs = load_runs(list(run_paths))  # before touching the database: bad runs leave no file behind
    rng = random.Random(seed)
    tasks = build_pair_tasks(runs, images_per_side, rng)
    n_controls = control_count(len(tasks), control_rate)  # a rater sees each regular task at most once
    conn = db.connect(db_path, create=True)
    try:
        if name in db.study_names(conn):
            raise UserError(f"study {name!r} already exists in {db_path}; choose another --name or --db")
        tasks += build_control_tasks(runs, n_controls, images_per_side, controls_dir(db_path, name), rng)
        with db.write_transaction(conn):
            cur = conn.execute(
                "INSERT INTO studies(name, created_at, ratings_per_task, control_rate, images_per_side, seed, raters, "
                "claim_seconds) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (name, time.time(), ratings_per_task, control_rate, images_per_side, seed,
                 json.dumps(raters) if raters else None, claim_minutes * 60))
            study_id = cur.lastrowid
            conn.executemany("INSERT INTO runs(study_id, run_id, position, path) VALUES (?, ?, ?, ?)",
                             [(study_id, r.run_id, i, str(r.path)) for i, r in enumerate(runs)])
            conn.executemany(
                "INSERT INTO tasks(study_id, prompt_id, caption, category, left_run, right_run, left_images, "
                "right_images, is_control, control_answer) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(study_id, t.prompt_id, t.caption, t.category, t.left_run, t.right_run, json.dumps(t.left_images),
                  json.dumps(t.right_images), int(t.is_control), json.dumps(t.control_answer) if t.control_answer else None)
                 for t in tasks])
        return db.get_study(conn, name)
    finally:
        conn.close()
