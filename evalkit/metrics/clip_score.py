"""CLIP score: per image 100 * max(cos(E_img, E_txt), 0), then the mean with a bootstrap CI
over prompts, overall and per category.

Note the clamp is per image; torchmetrics' CLIPScore clamps the mean instead, so the
two agree only when no cosine is negative.
"""

from __future__ import annotations

import numpy as np

from evalkit.metrics.base import Metric
from evalkit.metrics.extractors.clip import ClipOptions
from evalkit.metrics.stats import bootstrap_mean_ci
from evalkit.results import Estimate, MetricResult


def clip_scores(image_emb: np.ndarray, text_emb: np.ndarray) -> np.ndarray:
    """Row-wise 100 * max(cos, 0) of L2-normalised embeddings."""
    return 100 * np.clip(np.sum(image_emb * text_emb, axis=1), 0, None)


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


class CLIPScore(Metric, higher_is_better=True, needs_texts=True):
    """CLIP score: 100 * max(cos(image, text), 0), mean with bootstrap CI."""

    Options = ClipOptions

    def compute(self, ctx, name: str) -> MetricResult:
        clip = ctx.extractor("clip", self.options)
        samples = ctx.samples
        texts = samples["text"].tolist()
        unique = list(dict.fromkeys(texts))  # encode each distinct prompt once
        txt_emb = clip.text_embeddings(unique)
        row = {t: i for i, t in enumerate(unique)}
        scores = clip_scores(ctx.features(clip), txt_emb[[row[t] for t in texts]])  # image features shared with CMMD
        truncated = clip.count_truncated(unique)
        per_sample = samples[["prompt_id", "index", "category", "text"]].copy()
        per_sample[name] = scores
        provenance = {**clip.provenance(), "n": len(scores), "prompts_truncated": truncated}
        return MetricResult(name, True, {name: mean_with_ci(scores, samples["prompt_id"])},
                            {name: per_category(scores, samples)}, provenance, _warnings(clip, truncated), per_sample)


def _warnings(clip, truncated: int) -> tuple[str, ...]:
    out = []
    if truncated:
        out.append(f"{truncated} prompt(s) longer than CLIP's {clip.context_length} tokens were truncated (end token kept)")
    if clip.random_weights:
        out.append("CLIP score computed with RANDOM weights (built-in tiny model): not a quality measure")
    return tuple(out)
