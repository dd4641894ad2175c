"""The metric interface. A metric declares its direction and what it needs (torchmetrics'
"a metric declares its state"), and turns a scoring context into a MetricResult."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar, Literal

from evalkit.options import Component
from evalkit.results import MetricResult

# what a metric needs of the reference set: nothing, mean/covariance (FID), or the features themselves (KID)
Needs = Literal["nothing", "stats", "features"]


class Metric(Component, ABC):
    higher_is_better: ClassVar[bool]
    needs_reference: ClassVar[Needs] = "nothing"
    needs_texts: ClassVar[bool] = False  # scores images against their prompts (CLIP score)

    @abstractmethod
    def compute(self, ctx, name: str) -> MetricResult:
        """Score the images of `ctx` (an evalkit.runner.scoring.ScoringContext); `name` is the
        key the spec gave the metric, used as the key of its headline value."""
