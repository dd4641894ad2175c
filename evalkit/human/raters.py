"""Raters of a study: who joined (and from where: typed id, invitation, crowd platform) and
when they agreed to the instructions. One row per rater; nothing about their answers."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from evalkit.human.access import Identity
from evalkit.human.db import Study
from evalkit.human.store import Store


@dataclass(frozen=True)
class Rater:
    rater_id: str
    source: str
    consented: bool


def join(store: Store, study: Study, identity: Identity, now: float | None = None) -> Rater:
    """Record the rater on first arrival (again is a no-op); their current state."""
    if (known := _get(store, study, identity.rater_id)) is not None:  # every page run: a read, no write lock
        return known
    with store.transaction():
        store.execute("INSERT INTO raters(study_id, rater_id, source, external, joined_at) VALUES (:s, :r, :source, "
                      ":external, :now) ON CONFLICT DO NOTHING",
                      {"s": study.id, "r": identity.rater_id, "source": identity.source,
                       "external": json.dumps(identity.external) if identity.external else None,
                       "now": time.time() if now is None else now})
    return _get(store, study, identity.rater_id)


def _get(store: Store, study: Study, rater_id: str) -> Rater | None:
    row = store.one("SELECT source, consented_at FROM raters WHERE study_id = :s AND rater_id = :r",
                    {"s": study.id, "r": rater_id})
    return None if row is None else Rater(rater_id, row["source"], row["consented_at"] is not None)


def consent(store: Store, study: Study, rater_id: str, now: float | None = None) -> None:
    """The rater agreed to the instructions page (the first agreement's time stands)."""
    with store.transaction():
        store.execute("UPDATE raters SET consented_at = :now WHERE study_id = :s AND rater_id = :r "
                      "AND consented_at IS NULL", {"s": study.id, "r": rater_id, "now": time.time() if now is None else now})
