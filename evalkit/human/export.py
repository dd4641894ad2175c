"""All votes of a study as one table (joined with their tasks), for analysis and export."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from evalkit.errors import UserError
from evalkit.human.db import Study

VOTE_COLUMNS = [
    "study", "vote_id", "task_id", "rater_id", "prompt_id", "caption", "category", "is_control", "left_run",
    "right_run", "quality", "alignment", "quality_winner", "alignment_winner", "control_question", "control_answer",
    "control_correct", "seconds", "created_at", "submission_token",
]

_QUERY = """
SELECT v.id AS vote_id, v.task_id, v.rater_id, t.prompt_id, t.caption, t.category, t.is_control, t.left_run,
       t.right_run, v.quality, v.alignment, v.quality_winner, v.alignment_winner, t.control_answer,
       v.control_correct, v.seconds, v.created_at, v.submission_token
FROM votes v JOIN tasks t ON t.id = v.task_id
WHERE t.study_id = ? ORDER BY v.id
"""


def votes_frame(conn: sqlite3.Connection, study: Study):
    """One row per vote: on-screen answers (A = left), de-randomised winners, control facts."""
    import pandas as pd

    rows = [dict(r) for r in conn.execute(_QUERY, (study.id,))]
    for row in rows:
        answer = json.loads(row.pop("control_answer")) if row["control_answer"] else {}
        row["control_question"] = answer.get("question")
        row["control_answer"] = answer.get("answer")
        row["study"] = study.name
        row["is_control"] = bool(row["is_control"])
    frame = pd.DataFrame(rows, columns=VOTE_COLUMNS)
    frame["created_at"] = pd.to_datetime(frame["created_at"], unit="s", utc=True)
    frame["control_correct"] = frame["control_correct"].astype("Int64")
    return frame


def write_votes(frame, path: str | Path) -> Path:
    """Write the table as .csv or .parquet (chosen by the suffix), atomically."""
    import io

    from evalkit.store import atomic_write_bytes

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        data = frame.to_csv(index=False).encode("utf-8")
    elif suffix == ".parquet":
        buf = io.BytesIO()
        frame.to_parquet(buf, index=False)
        data = buf.getvalue()
    else:
        raise UserError(f"cannot export to {path.name}: use a .csv or .parquet file name")
    return atomic_write_bytes(path, data)
