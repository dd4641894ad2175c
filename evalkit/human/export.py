"""All votes of a study as one table (joined with their tasks and the side order each rater
saw), for analysis and export."""

from __future__ import annotations

import json
from pathlib import Path

from evalkit.errors import UserError
from evalkit.human.db import Study
from evalkit.human.store import Store

VOTE_COLUMNS = [
    "study", "vote_id", "task_id", "rater_id", "kind", "prompt_id", "caption", "category", "is_control", "run_a",
    "run_b", "a_left", "left_run", "right_run", "quality", "alignment", "quality_winner", "alignment_winner",
    "control_question", "control_answer", "control_correct", "seconds", "created_at",
]
_DTYPES = {"vote_id": "int64", "task_id": "int64", "is_control": "bool", "a_left": "bool", "seconds": "float64",
           "control_correct": "Int64"}

_QUERY = """
SELECT v.id AS vote_id, v.task_id, v.rater_id, t.kind, t.prompt_id, t.caption, t.category, t.run_a, t.run_b,
       a.a_left, v.quality, v.alignment, v.quality_winner, v.alignment_winner, t.control_answer,
       v.control_correct, v.seconds, v.created_at
FROM votes v JOIN tasks t ON t.id = v.task_id JOIN assignments a ON a.id = v.assignment_id
WHERE t.study_id = :s ORDER BY v.id
"""


def votes_frame(store: Store, study: Study):
    """One row per vote: on-screen answers (A = left), the side order seen (`a_left`: run_a was
    set A), de-randomised winners, control facts (`control_answer`: the right on-screen set)."""
    import pandas as pd

    rows = store.query(_QUERY, {"s": study.id})
    for row in rows:
        control = json.loads(row["control_answer"]) if row["control_answer"] else {}
        a_left = bool(row["a_left"])
        row.update(study=study.name, a_left=a_left, is_control=row["kind"] == "control",
                   left_run=row["run_a"] if a_left else row["run_b"], right_run=row["run_b"] if a_left else row["run_a"],
                   control_question=control.get("question"), control_answer=("A" if a_left else "B") if control else None)
    frame = pd.DataFrame(rows, columns=VOTE_COLUMNS).astype(_DTYPES)
    frame["created_at"] = pd.to_datetime(frame["created_at"].astype("float64"), unit="s", utc=True)
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
