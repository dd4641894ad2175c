"""CLIP score: per image 100 * max(cos(E_img, E_txt), 0), then the mean with a bootstrap CI
over prompts, overall and per category. The same machinery serves every score made from a
CLIP-like model's image and text embeddings (PickScore, HPSv2: evalkit.metrics.preference):
`EmbeddingScore` turns the per-pair cosines into the metric's scores.

Note the clamp is per image; torchmetrics' CLIPScore clamps the mean instead, so the
two agree only when no cosine is negative.
"""

from __future__ import annotations

from abc import abstractmethod

import numpy as np

from evalkit.metrics.base import Metric
from evalkit.metrics.extractors.clip import ClipOptions
from evalkit.metrics.stats import bootstrap_mean_ci
from evalkit.results import Estimate, MetricResult


def clip_score_of(cosines: np.ndarray) -> np.ndarray:
    """100 * max(cos, 0), per image."""
    return 100 * np.clip(cosines, 0, None)


def clip_scores(image_emb: np.ndarray, text_emb: np.ndarray) -> np.ndarray:
    """Row-wise CLIP score of L2-normalised embeddings."""
    return clip_score_of(np.sum(image_emb * text_emb, axis=1))


def mean_with_ci(scores, prompt_ids, seed: int = 0) -> Estimate:
    """Mean over images; CI by bootstrapping prompts (a prompt's images are not independent)."""
    import pandas as pd

    scores = np.asarray(scores, np.float64)  # float32 sums would put the mean outside a one-prompt CI
    per_prompt = pd.Series(scores).groupby(np.asarray(prompt_ids)).mean()
    low, high = bootstrap_mean_ci(per_prompt.to_numpy(), seed=seed)
    return Estimate(float(np.mean(scores)), low, high, n=len(scores))


def per_category(scores: np.ndarray, samples) -> dict[str, Estimate]:
    """The same estimate within each category (prompts without one are left out)."""
    categories = samples["category"].fillna("").to_numpy()
    return {cat: mean_with_ci(scores[categories == cat], samples["prompt_id"][categories == cat])
            for cat in sorted(set(categories) - {""})}


def pair_score_result(name: str, scores: np.ndarray, samples, provenance: dict, warnings=()) -> MetricResult:
    """The result of a per-image score (higher is better): the mean with its CI overall and per
    category, N, and every image's score in per_sample (what paired comparisons use)."""
    per_sample = samples[["prompt_id", "index", "category", "text"]].copy()
    per_sample[name] = scores
    return MetricResult(name, True, {name: mean_with_ci(scores, samples["prompt_id"])},
                        {name: per_category(scores, samples)}, {**provenance, "n": len(scores)}, tuple(warnings),
                        per_sample)


class EmbeddingScore(Metric, higher_is_better=True, needs_texts=True):
    """A score of each image against its prompt from a CLIP-like model's embeddings; image
    embeddings come from the feature cache (shared with CMMD, CLIP-FID, ...)."""

    Options = ClipOptions
    label = "CLIP score"

    @abstractmethod
    def scores(self, cosines: np.ndarray, clip) -> np.ndarray:
        """The metric's per-image scores from cos(image, its prompt)."""

    def score_provenance(self, clip) -> dict:
        """What the metric adds to the model's provenance (e.g. its scale)."""
        return {}

    def clip_options(self) -> dict:
        """The options of the CLIP extractor the scores come from."""
        return self.options.model_dump()

    def compute(self, ctx, name: str) -> MetricResult:
        clip = ctx.extractor("clip", self.clip_options())
        samples = ctx.samples
        texts = samples["text"].tolist()
        unique = list(dict.fromkeys(texts))  # encode each distinct prompt once
        txt_emb = clip.text_embeddings(unique)
        row = {t: i for i, t in enumerate(unique)}
        cosines = np.sum(ctx.features(clip) * txt_emb[[row[t] for t in texts]], axis=1)
        truncated = clip.count_truncated(unique)
        provenance = {**clip.provenance(), **self.score_provenance(clip), "prompts_truncated": truncated}
        return pair_score_result(name, self.scores(cosines, clip), samples, provenance, self._warnings(clip, truncated))

    def _warnings(self, clip, truncated: int) -> tuple[str, ...]:
        out = []
        if truncated:
            out.append(f"{truncated} prompt(s) longer than the {clip.context_length}-token text context were "
                       "truncated (end token kept)")
        if clip.random_weights:
            out.append(f"{self.label} computed with RANDOM weights (built-in tiny model): not a quality measure")
        return tuple(out)


class CLIPScore(EmbeddingScore):
    """CLIP score: 100 * max(cos(image, text), 0), mean with bootstrap CI."""

    def scores(self, cosines: np.ndarray, clip) -> np.ndarray:
        return clip_score_of(cosines)
