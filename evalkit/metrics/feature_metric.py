"""Metrics computed on the features of one extractor (FID, KID, CMMD, ...): where the
extractor comes from, and the one check every such estimator needs (two images at least)."""

from __future__ import annotations

import numpy as np

from evalkit.errors import UserError
from evalkit.metrics.base import Metric


class FeatureMetric(Metric):
    """Options are the extractor's (device, batch_size, ...); Inception unless overridden."""

    def extractor(self, ctx):
        return ctx.inception(self.options)

    def generated(self, ctx, name: str) -> tuple[object, np.ndarray]:
        """(the extractor, the generated images' features), refusing fewer than two images."""
        extractor = self.extractor(ctx)
        feats = ctx.features(extractor)
        if len(feats) < 2:
            raise UserError(f"metrics.{name}: needs at least 2 images to estimate a distribution, got {len(feats)}")
        return extractor, feats
