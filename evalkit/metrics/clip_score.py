"""CLIP score: per image 100 * max(cos(E_img, E_txt), 0), then the mean with a bootstrap CI.

Note the clamp is per image; torchmetrics' CLIPScore clamps the mean instead, so the
two agree only when no cosine is negative.
"""

from __future__ import annotations

import numpy as np

from evalkit.metrics.base import MetricResult
from evalkit.metrics.clip_models import ClipMetric
from evalkit.metrics.features import batched
from evalkit.metrics.stats import bootstrap_mean_ci


def clip_scores(image_emb: np.ndarray, text_emb: np.ndarray) -> np.ndarray:
    """Row-wise 100 * max(cos, 0) of L2-normalised embeddings."""
    return 100 * np.clip(np.sum(image_emb * text_emb, axis=1), 0, None)


def mean_with_ci(scores, prompt_ids, seed: int = 0) -> tuple[float, float, float]:
    """Mean over images; CI by bootstrapping prompts (a prompt's images are not independent)."""
    import pandas as pd

    per_prompt = pd.Series(scores).groupby(np.asarray(prompt_ids)).mean()
    low, high = bootstrap_mean_ci(per_prompt.to_numpy(), seed=seed)
    return float(np.mean(scores)), low, high


class CLIPScore(ClipMetric):
    name = "clip_score"
    higher_is_better = True

    def compute(self, ctx) -> MetricResult:
        clip = self.load_clip(ctx)
        samples = ctx.samples
        texts = samples["text"].tolist()
        img_emb = ctx.generated_features(clip)  # cached per run; shared with CMMD
        unique = list(dict.fromkeys(texts))  # encode each distinct prompt once
        txt_emb = np.concatenate([clip.text_embeddings(b) for b in batched(unique, self.batch_size)])
        row = {t: i for i, t in enumerate(unique)}
        scores = clip_scores(img_emb, txt_emb[[row[t] for t in texts]])

        values: dict[str, float] = {}
        mean, low, high = mean_with_ci(scores, samples["prompt_id"])
        values.update({"clip_score/mean": mean, "clip_score/ci95_low": low, "clip_score/ci95_high": high})
        categories = samples["category"].fillna("")
        for cat in sorted(set(categories) - {""}):
            mask = (categories == cat).to_numpy()
            m, lo, hi = mean_with_ci(scores[mask], samples["prompt_id"][mask])
            values.update({f"clip_score/{cat}": m, f"clip_score/{cat}/ci95_low": lo, f"clip_score/{cat}/ci95_high": hi})

        truncated = clip.count_truncated(unique)
        per_sample = samples[["prompt_id", "index", "category", "text"]].copy()
        per_sample["clip_score"] = scores
        provenance = {**clip.provenance(), "n": len(scores), "prompts_truncated": truncated}
        warnings = []
        if truncated:
            warnings.append(
                f"{truncated} prompt(s) longer than CLIP's {clip.context_length} tokens were truncated (end token kept)"
            )
        if clip.random_weights:
            warnings.append("CLIP score computed with RANDOM weights (built-in tiny model): not a quality measure")
        return MetricResult(values, provenance, warnings, per_sample)
