"""Metrics computed on the features of one extractor (FID, KID, CMMD, FD, precision/recall,
...): where the extractor comes from, and the one check every such estimator needs (two
images at least).

Metrics that work on any extractor (`fd`, `precision_recall`, `density_coverage`) take
`extractor: NAME` and that extractor's own options flat beside their own:

    fd_dinov2: {metric: fd, extractor: dinov2, model: builtin:tiny-dinov2, batch_size: 16}
    clip_fid:  {metric: fd, extractor: clip, model: ViT-B-32, pretrained: openai, normalize: false}

The extractor's options are validated against its own Options when the spec loads (a typo
or a bad value is a one-line error naming the option) and recorded with their defaults.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from pydantic import ConfigDict, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from evalkit.errors import UserError
from evalkit.metrics.base import Metric
from evalkit.results import MetricResult
from evalkit.options import Options, unknown_option


def _error(cls: type, loc: tuple, kind: str, message: str, value: Any) -> ValidationError:
    detail = InitErrorDetails(type=PydanticCustomError(kind, message), loc=loc, input=value)
    return ValidationError.from_exception_data(cls.__name__, [detail])


class ExtractorChoice(Options):
    """`extractor` names a registered feature extractor; every other key not of the metric's
    own is one of that extractor's options. `extractor_defaults` (a subclass's) are applied
    when the extractor is the class's default one (e.g. clip_fid's raw CLIP embeddings)."""

    model_config = ConfigDict(extra="allow", frozen=True, strict=True, protected_namespaces=())
    extractor: str = "dinov2"
    extractor_defaults: ClassVar[dict[str, Any]] = {}

    @model_validator(mode="wrap")
    @classmethod
    def _extractor_options(cls, data: Any, handler):
        if not isinstance(data, dict):
            return handler(data)
        own = {k: v for k, v in data.items() if k in cls.model_fields}
        name = own.get("extractor", cls.model_fields["extractor"].default)
        if not isinstance(name, str):
            return handler(own)  # reports the type of `extractor`
        from evalkit.registry import EXTRACTORS

        try:
            options_cls = EXTRACTORS.load(name).Options
        except UserError as err:
            raise _error(cls, ("extractor",), "unknown_extractor", str(err), name) from None
        rest = {**(cls.extractor_defaults if name == cls.model_fields["extractor"].default else {}),
                **{k: v for k, v in data.items() if k not in cls.model_fields}}
        try:
            chosen = options_cls.model_validate(rest)
        except ValidationError as err:
            first = err.errors()[0]
            if first["type"] != "extra_forbidden":
                raise
            names = [*cls.model_fields, *options_cls.model_fields]
            raise _error(cls, first["loc"], "unknown_option", unknown_option(str(first["loc"][-1]), names),
                         first["input"]) from None
        return handler({**own, **chosen.model_dump()})

    def extractor_options(self) -> dict[str, Any]:
        """The chosen extractor's options (validated, defaults included)."""
        return dict(self.model_extra or {})


class FeatureMetric(Metric):
    """Options are the extractor's (device, batch_size, ...); Inception unless overridden,
    or the one an ExtractorChoice names.

    A subclass gives `estimates(gen, ref, name, category)`, the metric's values from
    generated features and the reference (features, or FID's (mu, sigma)); `compute` calls
    it on every image and on each category's images (against the whole reference), and
    adds N, provenance and the sample-size advice of `advice(n, n_ref, dim, name)`.
    """

    min_images: ClassVar[int] = 2  # a category with fewer images gets no estimate

    def extractor(self, ctx):
        if isinstance(self.options, ExtractorChoice):
            return ctx.extractor(self.options.extractor, self.options.extractor_options())
        return ctx.inception(self.options)

    def generated(self, ctx, name: str) -> tuple[object, np.ndarray]:
        """(the extractor, the generated images' features), refusing fewer than two images."""
        extractor = self.extractor(ctx)
        feats = ctx.features(extractor)
        if len(feats) < 2:
            raise UserError(f"metrics.{name}: needs at least 2 images to estimate a distribution, got {len(feats)}")
        return extractor, feats

    def reference(self, ctx, extractor) -> tuple[Any, dict]:
        """The reference the estimates need (its features, unless overridden) and its provenance."""
        return ctx.reference_features(extractor)

    def estimates(self, gen: np.ndarray, ref: Any, name: str, samples, category: bool = False) -> tuple[dict, dict]:
        """({value key: Estimate}, the settings used, for the provenance); `samples` are the
        rows of `gen` (prompt ids: the CIs' resampling units)."""
        raise NotImplementedError(f"{type(self).__name__} computes its own results")

    def advice(self, n: int, n_ref: int | None, dim: int, name: str) -> str | None:
        """A warning when n generated (n_ref reference) samples are too few for the estimator."""
        return None

    def compute(self, ctx, name: str) -> MetricResult:
        extractor, gen = self.generated(ctx, name)
        ref, ref_info = self.reference(ctx, extractor)
        values, settings = self.estimates(gen, ref, name, ctx.samples)
        categories, sizes = self.by_category(ctx.samples, gen, ref, name)
        n_ref = len(ref) if isinstance(ref, np.ndarray) else getattr(ref, "n", None) or ref_info.get("reference_n")
        warnings = [w for w in (self.advice(len(gen), n_ref, extractor.dim, name),) if w]
        small = self.advice(min(sizes), n_ref, extractor.dim, f"{name} per category") if sizes else None
        if small:
            warnings.append(f"{small} (categories have {min(sizes)}-{max(sizes)} images)")
        if getattr(extractor, "random_weights", False):
            warnings.insert(0, f"{name} computed on features of a RANDOM-weight extractor (built-in tiny model): "
                               "checks the pipeline only")
        provenance = {**self.feature_provenance(extractor, ref_info, len(gen)), **settings}
        return MetricResult(name, self.higher_is_better, values, categories, provenance, tuple(warnings))

    def by_category(self, samples, gen: np.ndarray, ref: Any, name: str) -> tuple[dict, list[int]]:
        """{value key: {category: Estimate}} from each category's images, and their counts."""
        labels = samples["category"].fillna("").to_numpy()
        out: dict[str, dict] = {}
        sizes = []
        for cat in sorted(set(labels) - {""}):
            mask = labels == cat
            if mask.sum() < self.min_images:
                continue
            sizes.append(int(mask.sum()))
            for key, estimate in self.estimates(gen[mask], ref, name, samples[mask], category=True)[0].items():
                out.setdefault(key, {})[cat] = estimate
        return out, sizes

    def feature_provenance(self, extractor, ref_info: dict, n: int) -> dict:
        """The extractor's provenance (with its name, and its feature-cache key so that `compare`
        can find the features again), the reference set's, and N."""
        name = self.options.extractor if isinstance(self.options, ExtractorChoice) else "inception"
        return {"extractor": name, **extractor.provenance(), "features_key": extractor.key, **ref_info, "n": n}
