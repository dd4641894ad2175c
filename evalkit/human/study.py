"""Create a study: read the runs, build the paired, control and practice tasks, store it all
in one transaction (a crash leaves no half-made study). Everything random here (which
prompts become controls) comes from the operating system's secret source, and the study
gets its own secret for queue orders and invitation signatures."""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass, replace
from pathlib import Path

from evalkit.errors import UserError
from evalkit.human import db
from evalkit.human.access import ACCESS_MODES, check_completion
from evalkit.human.controls import build_control_tasks, control_count
from evalkit.human.keys import new_secret
from evalkit.human.names import check_rater_id, check_study_name
from evalkit.human.pairs import MAX_IMAGES_PER_SIDE, build_pair_tasks, check_images_per_side
from evalkit.human.runs import load_runs
from evalkit.human.store import is_postgres

MAX_INSTRUCTIONS_CHARS = 100_000


@dataclass(frozen=True)
class StudySettings:
    ratings_per_task: int = 3
    control_rate: float = 0.1
    images_per_side: int = MAX_IMAGES_PER_SIDE
    tasks_per_rater: int | None = None      # regular tasks per rater; None: every task once
    raters: tuple[str, ...] | None = None   # open access: the ids allowed; None: anyone
    claim_minutes: float = 30.0
    access: str = "open"                    # open | invite | prolific | mturk
    instructions: str | None = None         # Markdown; None: the built-in instructions
    practice: bool = False                  # one practice task (not analysed) before the first real one
    completion_code: str | None = None
    completion_url: str | None = None
    controls_dir: str | None = None         # where degraded control images go; default beside a SQLite file

    def checked(self) -> StudySettings:
        if self.ratings_per_task < 1:
            raise UserError(f"--ratings-per-task must be at least 1, got {self.ratings_per_task}")
        if self.claim_minutes <= 0:
            raise UserError(f"--claim-minutes must be positive, got {self.claim_minutes}")
        if self.tasks_per_rater is not None and self.tasks_per_rater < 1:
            raise UserError(f"--tasks-per-rater must be at least 1, got {self.tasks_per_rater}")
        if self.access not in ACCESS_MODES:
            raise UserError(f"--access must be one of {', '.join(ACCESS_MODES)}, got {self.access!r}")
        if self.instructions is not None and len(self.instructions) > MAX_INSTRUCTIONS_CHARS:
            raise UserError(f"--instructions is over {MAX_INSTRUCTIONS_CHARS} characters; shorten the file")
        check_images_per_side(self.images_per_side)
        check_completion(self.access, self.completion_code, self.completion_url)
        raters = tuple(check_rater_id(r) for r in self.raters) if self.raters else None
        return replace(self, raters=raters)


def read_instructions(path: str | Path | None) -> str | None:
    """The Markdown file given to `create --instructions`."""
    if path is None:
        return None
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise UserError(f"cannot read --instructions {path} ({err.__class__.__name__}); give a UTF-8 Markdown "
                        "file") from None


def controls_dir(target, study_name: str, settings: StudySettings | None = None) -> Path:
    """Where a study's degraded control images live: controls/<study>/ beside a SQLite file,
    or under ./studies for a PostgreSQL database (every replica needs this folder)."""
    if settings is not None and settings.controls_dir:
        return Path(settings.controls_dir).resolve() / study_name
    base = Path("studies") if is_postgres(str(target)) else Path(target).parent
    return base.resolve() / "controls" / study_name


def _insert(store, name: str, s: StudySettings, runs, tasks) -> int:
    study_id = store.scalar(
        "INSERT INTO studies(name, created_at, ratings_per_task, control_rate, images_per_side, tasks_per_rater, "
        "raters, claim_seconds, access, secret, instructions, completion_code, completion_url) VALUES (:name, :now, "
        ":rpt, :rate, :ips, :tpr, :raters, :claim, :access, :secret, :instructions, :code, :url) RETURNING id",
        {"name": name, "now": time.time(), "rpt": s.ratings_per_task, "rate": s.control_rate,
         "ips": s.images_per_side, "tpr": s.tasks_per_rater, "raters": json.dumps(list(s.raters)) if s.raters else None,
         "claim": s.claim_minutes * 60, "access": s.access, "secret": new_secret(), "instructions": s.instructions,
         "code": s.completion_code, "url": s.completion_url})
    store.executemany("INSERT INTO runs(study_id, run_id, position, path) VALUES (:s, :run, :pos, :path)",
                      [{"s": study_id, "run": r.run_id, "pos": i, "path": str(r.path)} for i, r in enumerate(runs)])
    store.executemany(
        "INSERT INTO tasks(study_id, kind, prompt_id, caption, category, run_a, run_b, images_a, images_b, "
        "control_answer) VALUES (:s, :kind, :pid, :caption, :category, :a, :b, :ia, :ib, :answer)",
        [{"s": study_id, "kind": t.kind, "pid": t.prompt_id, "caption": t.caption, "category": t.category,
          "a": t.run_a, "b": t.run_b, "ia": json.dumps(t.images_a), "ib": json.dumps(t.images_b),
          "answer": json.dumps(t.control_answer) if t.control_answer else None} for t in tasks])
    return study_id


def create_study(target, run_paths: list, name: str, settings: StudySettings | None = None,
                 **changes) -> db.Study:
    """Make study `name` in the database at `target` (created if missing); `changes` are
    StudySettings fields, e.g. ratings_per_task=2."""
    check_study_name(name)
    s = replace(settings or StudySettings(), **changes).checked()
    runs = load_runs(list(run_paths))  # before touching the database: bad runs leave no file behind
    tasks = build_pair_tasks(runs, s.images_per_side)
    n_controls = control_count(len(tasks), s.control_rate)  # a rater sees each regular task at most once
    rng = random.SystemRandom()
    store = db.connect(target, create=True)
    try:
        if name in db.study_names(store):
            raise UserError(f"study {name!r} already exists in the database; choose another --name or --db")
        folder = controls_dir(target, name, s)
        tasks += build_control_tasks(runs, n_controls, s.images_per_side, folder, rng)
        if s.practice:
            tasks += build_control_tasks(runs, 1, s.images_per_side, folder, rng, kind="practice")
        with store.transaction():
            _insert(store, name, s, runs, tasks)
        return db.get_study(store, name)
    finally:
        store.close()
