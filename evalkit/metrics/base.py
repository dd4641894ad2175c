"""What every metric returns, and the interface it implements."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass
class MetricResult:
    values: dict[str, float]  # "fid", "kid/mean", "clip_score/ci95_low", ...
    provenance: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    per_sample: Any = None  # pandas DataFrame keyed by (prompt_id, index), or None


class Metric(Protocol):
    name: str
    higher_is_better: bool

    def compute(self, ctx) -> MetricResult:
        """Score the run described by `ctx` (an evalkit.runner.score.ScoringContext)."""
        ...
