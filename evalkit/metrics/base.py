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
    """Subclasses declare their direction and needs in the class line:

        class FID(FeatureMetric, higher_is_better=False, needs_reference="stats"): ...
    """

    higher_is_better: ClassVar[bool]
    needs_reference: ClassVar[Needs] = "nothing"
    needs_texts: ClassVar[bool] = False  # scores images against their prompts (CLIP score)

    def __init_subclass__(cls, higher_is_better: bool | None = None, needs_reference: Needs | None = None,
                          needs_texts: bool | None = None, **kwargs):
        super().__init_subclass__(**kwargs)
        for name, value in (("higher_is_better", higher_is_better), ("needs_reference", needs_reference),
                            ("needs_texts", needs_texts)):
            if value is not None:
                setattr(cls, name, value)

    @classmethod
    def interface_problem(cls) -> str | None:
        if not isinstance(getattr(cls, "higher_is_better", None), bool):
            return "declares no direction: write `class MyMetric(Metric, higher_is_better=True)`"
        return None

    @abstractmethod
    def compute(self, ctx, name: str) -> MetricResult:
        """Score the images of `ctx` (an evalkit.runner.scoring.ScoringContext); `name` is the
        key the spec gave the metric, used as the key of its headline value."""
