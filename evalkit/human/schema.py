"""The study database's tables (SQLite). Votes are insert-only: UNIQUE(task_id, rater_id)
plus a unique client submission token make a repeated submit a no-op, and triggers refuse
any UPDATE or DELETE, so no one (another rater included) can change a stored vote."""

from __future__ import annotations

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE IF NOT EXISTS studies (
  id               INTEGER PRIMARY KEY,
  name             TEXT NOT NULL UNIQUE,
  created_at       REAL NOT NULL,              -- unix seconds
  ratings_per_task INTEGER NOT NULL CHECK (ratings_per_task >= 1),
  control_rate     REAL NOT NULL CHECK (control_rate >= 0 AND control_rate <= 0.5),
  images_per_side  INTEGER NOT NULL,
  seed             INTEGER NOT NULL,
  raters           TEXT,                       -- JSON list of allowed rater ids; NULL: anyone may join
  claim_seconds    REAL NOT NULL               -- an unanswered task stops holding a rating slot after this
);

CREATE TABLE IF NOT EXISTS runs (               -- the models compared; a model's name is its run id
  study_id INTEGER NOT NULL REFERENCES studies(id),
  run_id   TEXT NOT NULL,
  position INTEGER NOT NULL,                   -- order given to `create --runs` (model A first)
  path     TEXT NOT NULL,
  PRIMARY KEY (study_id, run_id)
);

CREATE TABLE IF NOT EXISTS tasks (
  id             INTEGER PRIMARY KEY,
  study_id       INTEGER NOT NULL REFERENCES studies(id),
  prompt_id      TEXT NOT NULL,
  caption        TEXT NOT NULL,
  category       TEXT NOT NULL,
  left_run       TEXT NOT NULL,                -- shown as set A
  right_run      TEXT NOT NULL,                -- shown as set B
  left_images    TEXT NOT NULL,                -- JSON list of absolute image paths
  right_images   TEXT NOT NULL,
  is_control     INTEGER NOT NULL DEFAULT 0,
  control_answer TEXT                          -- JSON {"question", "answer": "A"|"B", "kind"} on controls
);
CREATE INDEX IF NOT EXISTS tasks_by_study ON tasks(study_id, is_control);

CREATE TABLE IF NOT EXISTS assignments (        -- each rater's queue, in the order served
  study_id    INTEGER NOT NULL REFERENCES studies(id),
  rater_id    TEXT NOT NULL,
  position    INTEGER NOT NULL,
  task_id     INTEGER NOT NULL REFERENCES tasks(id),
  assigned_at REAL NOT NULL,
  PRIMARY KEY (study_id, rater_id, position),
  UNIQUE (task_id, rater_id)
);
CREATE INDEX IF NOT EXISTS assignments_by_task ON assignments(task_id);

CREATE TABLE IF NOT EXISTS votes (
  id               INTEGER PRIMARY KEY,
  task_id          INTEGER NOT NULL REFERENCES tasks(id),
  rater_id         TEXT NOT NULL,
  quality          TEXT NOT NULL CHECK (quality IN ('A', 'tie', 'B')),    -- as seen on screen
  alignment        TEXT NOT NULL CHECK (alignment IN ('A', 'tie', 'B')),
  quality_winner   TEXT,                       -- de-randomised: a run id or 'tie'; NULL on controls
  alignment_winner TEXT,
  control_correct  INTEGER,                    -- 1/0 on control tasks, NULL otherwise
  submission_token TEXT NOT NULL UNIQUE,
  seconds          REAL,                       -- from first shown to submitted
  created_at       REAL NOT NULL,
  UNIQUE (task_id, rater_id)
);
CREATE INDEX IF NOT EXISTS votes_by_rater ON votes(rater_id);

CREATE TRIGGER IF NOT EXISTS votes_are_final_update BEFORE UPDATE ON votes
BEGIN SELECT RAISE(ABORT, 'votes are final: they cannot be changed'); END;
CREATE TRIGGER IF NOT EXISTS votes_are_final_delete BEFORE DELETE ON votes
BEGIN SELECT RAISE(ABORT, 'votes are final: they cannot be deleted'); END;
"""
