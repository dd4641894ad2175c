"""The study database's tables, written once for both backends (SQLite, PostgreSQL): only
the id column, the float type and the triggers differ by dialect.

Votes are insert-only: UNIQUE(task_id, rater_id) and UNIQUE(assignment_id) make a repeated
submit a no-op, and triggers refuse any UPDATE or DELETE, so no one (another rater included)
can change a stored vote.

Blinding lives in `assignments`: each rater's view of a task has its own side order
(`a_left`, drawn from a secret random source when the task is first shown, balanced per
task) and its own opaque `token`, the only handle the page ever carries."""

from __future__ import annotations

SCHEMA_VERSION = 2

_TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE IF NOT EXISTS studies (
  id               {pk},
  name             TEXT NOT NULL UNIQUE,
  created_at       {real} NOT NULL,            -- unix seconds
  ratings_per_task INTEGER NOT NULL CHECK (ratings_per_task >= 1),
  control_rate     {real} NOT NULL CHECK (control_rate >= 0 AND control_rate <= 0.5),
  images_per_side  INTEGER NOT NULL,
  tasks_per_rater  INTEGER,                    -- regular tasks one rater gets; NULL: every task once
  raters           TEXT,                       -- JSON list of allowed rater ids (open access); NULL: anyone
  claim_seconds    {real} NOT NULL,            -- an unanswered task stops holding a rating slot after this
  access           TEXT NOT NULL CHECK (access IN ('open', 'invite', 'prolific', 'mturk')),
  secret           TEXT NOT NULL,              -- hex; keys queue orders and invitation signatures
  instructions     TEXT,                       -- Markdown shown (with consent) before the first task
  completion_code  TEXT,                       -- crowd platforms: shown when a rater is done
  completion_url   TEXT                        -- crowd platforms: where a rater returns when done
);

CREATE TABLE IF NOT EXISTS runs (               -- the models compared; a model's name is its run id
  study_id INTEGER NOT NULL REFERENCES studies(id),
  run_id   TEXT NOT NULL,
  position INTEGER NOT NULL,                   -- order given to `create --runs` (model A first)
  path     TEXT NOT NULL,
  PRIMARY KEY (study_id, run_id)
);

CREATE TABLE IF NOT EXISTS tasks (
  id             {pk},
  study_id       INTEGER NOT NULL REFERENCES studies(id),
  kind           TEXT NOT NULL CHECK (kind IN ('regular', 'control', 'practice')),
  prompt_id      TEXT NOT NULL,
  caption        TEXT NOT NULL,
  category       TEXT NOT NULL,
  run_a          TEXT NOT NULL,                -- the run named first in --runs; controls: the run on both sides
  run_b          TEXT NOT NULL,
  images_a       TEXT NOT NULL,                -- JSON list of absolute image paths; controls: the intact side
  images_b       TEXT NOT NULL,
  control_answer TEXT                          -- JSON {"question", "kind"} on controls and practice: set a is right
);
CREATE INDEX IF NOT EXISTS tasks_by_study ON tasks(study_id, kind);

CREATE TABLE IF NOT EXISTS raters (
  study_id     INTEGER NOT NULL REFERENCES studies(id),
  rater_id     TEXT NOT NULL,
  source       TEXT NOT NULL,                  -- typed, invite, prolific, mturk
  external     TEXT,                           -- JSON: the platform's study/session/assignment ids
  joined_at    {real} NOT NULL,
  consented_at {real},
  PRIMARY KEY (study_id, rater_id)
);

CREATE TABLE IF NOT EXISTS assignments (        -- each rater's view of a task, in the order served
  id          {pk},
  study_id    INTEGER NOT NULL REFERENCES studies(id),
  rater_id    TEXT NOT NULL,
  position    INTEGER NOT NULL,
  task_id     INTEGER NOT NULL REFERENCES tasks(id),
  token       TEXT NOT NULL UNIQUE,            -- opaque, random: names this view in the page and image URLs
  a_left      INTEGER NOT NULL CHECK (a_left IN (0, 1)),  -- 1: run_a's images are set A (left)
  assigned_at {real} NOT NULL,
  UNIQUE (study_id, rater_id, position),
  UNIQUE (task_id, rater_id)
);
CREATE INDEX IF NOT EXISTS assignments_by_task ON assignments(task_id);

CREATE TABLE IF NOT EXISTS votes (
  id               {pk},
  assignment_id    INTEGER NOT NULL UNIQUE REFERENCES assignments(id),
  task_id          INTEGER NOT NULL REFERENCES tasks(id),
  rater_id         TEXT NOT NULL,
  quality          TEXT NOT NULL CHECK (quality IN ('A', 'tie', 'B')),    -- as seen on screen
  alignment        TEXT NOT NULL CHECK (alignment IN ('A', 'tie', 'B')),
  quality_winner   TEXT,                       -- de-randomised: a run id or 'tie'; NULL on controls
  alignment_winner TEXT,
  control_correct  INTEGER,                    -- 1/0 on control and practice tasks, NULL otherwise
  seconds          {real},                     -- from first shown to submitted
  created_at       {real} NOT NULL,
  UNIQUE (task_id, rater_id)
);
CREATE INDEX IF NOT EXISTS votes_by_rater ON votes(rater_id);
"""

_TRIGGERS = {
    "sqlite": """
CREATE TRIGGER IF NOT EXISTS votes_are_final_update BEFORE UPDATE ON votes
BEGIN SELECT RAISE(ABORT, 'votes are final: they cannot be changed'); END;
CREATE TRIGGER IF NOT EXISTS votes_are_final_delete BEFORE DELETE ON votes
BEGIN SELECT RAISE(ABORT, 'votes are final: they cannot be deleted'); END;
""",
    "postgres": """
CREATE OR REPLACE FUNCTION evalkit_votes_are_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'votes are final: they cannot be %',
    CASE TG_OP WHEN 'UPDATE' THEN 'changed' ELSE 'deleted' END;
END $$;
CREATE OR REPLACE TRIGGER votes_are_final BEFORE UPDATE OR DELETE ON votes
  FOR EACH ROW EXECUTE FUNCTION evalkit_votes_are_final();
CREATE OR REPLACE TRIGGER votes_are_final_truncate BEFORE TRUNCATE ON votes
  FOR EACH STATEMENT EXECUTE FUNCTION evalkit_votes_are_final();
""",
}

_TYPES = {
    "sqlite": {"pk": "INTEGER PRIMARY KEY", "real": "REAL"},
    "postgres": {"pk": "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", "real": "DOUBLE PRECISION"},
}


def schema_sql(dialect: str) -> str:
    """Every CREATE statement for one dialect ('sqlite' or 'postgres'), idempotent."""
    tables = _TABLES
    for name, sql_type in _TYPES[dialect].items():
        tables = tables.replace("{" + name + "}", sql_type)
    return tables + _TRIGGERS[dialect]
