"""Paired vs unpaired CI gate, by simulation on synthetic features (issue 12 item 5).

    .venv/bin/python benchmarks/perf/paired_gate_simulation.py [--replicates 50] [--noise-pairs 200]

A run is `prompts` prompts x `seeds` images. An image's features are
    prompt content (shared by every image of the prompt, in every run)
  + seed noise     (shared by two runs that use the same seed for the prompt)
  + model noise    (independent per run)
  + the model's own offset,
and a per-image score (CLIP-score-like) is built the same way. The reference
statistics come from a large sample of the "real" distribution (content + seed noise).

(a) Regression: model B = model A plus a small shift of its features (FID up) and of its
    scores (score down), same prompts and seeds. Over `replicates` fresh draws we count
    how often each gate calls it a regression.
(b) Noise: model A against itself with other seeds, `noise-pairs` times (fixed prompts,
    fresh seeds). A calibrated gate fails in at most its nominal share of these.

Gates (no tolerance, so only the noise rule decides):
- unpaired: evalkit.reports.compare.compare with each run's own 95% CI (FID:
  fid_interval, --method jackknife by default; score: the prompt bootstrap of
  clip_score), regressed iff the change is bad and |delta| > sqrt(h_base^2 + h_cur^2);
- paired: regressed iff the change is bad and the paired p-value < alpha (FID:
  paired_fid_interval, Student t; score: paired_mean_delta, sign-flip test). With only
  the bad direction failing, its nominal false-failure rate is alpha / 2.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import numpy as np
import scipy.stats

from evalkit.metrics.functional.frechet_ci import CIPlan, GaussianStats, fid_interval, paired_fid_interval
from evalkit.metrics.functional.paired import paired_mean_delta, unit_index, unit_means
from evalkit.metrics.stats import bootstrap_mean_ci
from evalkit.reports.compare import compare

@dataclass(frozen=True)
class World:
    prompts: int
    seeds: int
    dim: int
    content: np.ndarray  # (prompts, dim) features of each prompt's content
    difficulty: np.ndarray  # (prompts,) each prompt's score offset

    @property
    def groups(self) -> np.ndarray:
        return np.repeat(np.arange(self.prompts), self.seeds)


def make_world(rng, prompts: int, seeds: int, dim: int) -> World:
    return World(prompts, seeds, dim, rng.normal(size=(prompts, dim)), rng.normal(size=prompts) * 3.0)


def seed_noise(rng, world: World) -> tuple[np.ndarray, np.ndarray]:
    rows = world.prompts * world.seeds
    return rng.normal(size=(rows, world.dim)) * 0.7, rng.normal(size=rows)


def run(rng, world: World, noise, feature_shift: float = 0.0, score_shift: float = 0.0):
    """Features and scores of one run: a model with a fixed offset (FID well above 0)."""
    feats_noise, score_noise = noise
    rows = world.prompts * world.seeds
    feats = np.repeat(world.content, world.seeds, axis=0) + feats_noise + rng.normal(size=(rows, world.dim)) * 0.3
    feats = feats * 1.05 + 0.05 + feature_shift
    scores = 30 + np.repeat(world.difficulty, world.seeds) + score_noise + rng.normal(size=rows) * 0.3 + score_shift
    return feats, scores


def unpaired_doc(feats, scores, world: World, ref: GaussianStats, plan: CIPlan) -> dict:
    fid = fid_interval(feats, ref, plan, groups=world.groups)
    low, high = bootstrap_mean_ci(unit_means(scores, unit_index(world.groups, len(scores))))
    fid_low, fid_high = fid.interval(0.95)
    return {"run_id": "simulated", "n_images": len(scores), "n_prompts": world.prompts,
            "metrics": {"fid": fid.value, "fid/ci95_low": fid_low, "fid/ci95_high": fid_high,
                        "clip_score/mean": float(np.mean(scores)), "clip_score/ci95_low": low,
                        "clip_score/ci95_high": high},
            "higher_is_better": {"fid": False, "clip_score": True}}


def unpaired_verdicts(base_doc: dict, cur_doc: dict) -> dict[str, bool]:
    """compare()'s unpaired rule, tolerance 0, on two metrics.json-shaped docs."""
    tolerance = {"fid": 0.0, "clip_score": 0.0, "clip_score/mean": 0.0}
    try:  # the typed core: compare() takes RunResults, read from either metrics.json schema
        from evalkit.results import RunResults
    except ImportError:  # before it: compare() takes the metrics.json dicts
        rows = compare(base_doc, cur_doc, tolerance=tolerance)
    else:
        rows = compare(RunResults.from_json(base_doc), RunResults.from_json(cur_doc), tolerance=tolerance)
    return {r.metric.split("/")[0]: r.verdict == "regressed" for r in rows}


def verdicts(base, cur, world: World, ref: GaussianStats, plan: CIPlan, alpha: float) -> dict[str, bool]:
    """Which gates fail (regressed) for baseline `base` -> current `cur` (features, scores)."""
    unpaired = unpaired_verdicts(unpaired_doc(*base, world, ref, plan), unpaired_doc(*cur, world, ref, plan))
    fid = paired_fid_interval(cur[0], base[0], ref, groups=world.groups, plan=plan)  # > 0 is worse
    score = paired_mean_delta(cur[1], base[1], groups=world.groups, permutations=1999)  # < 0 is worse
    return {"fid unpaired": unpaired["fid"], "fid paired": fid.value > 0 and fid.p_value() < alpha,
            "score unpaired": unpaired["clip_score"], "score paired": score.delta < 0 and score.p_value < alpha,
            "fid paired, either direction": fid.p_value() < alpha,
            "score paired, either direction": score.p_value < alpha}


def rate_line(name: str, hits: int, total: int, nominal: float | None = None) -> str:
    """Share, its exact 95% CI and, against a nominal rate, the binomial p of 'fails more often'."""
    ci = scipy.stats.binomtest(hits, total).proportion_ci(0.95)
    line = f"| {name} | {hits}/{total} | {hits / total:.1%} | [{ci.low:.1%}, {ci.high:.1%}] |"
    if nominal is None:
        return line
    above = scipy.stats.binomtest(hits, total, nominal, alternative="greater").pvalue
    return line + f" {nominal:.1%} | {above:.2f} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=300)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--dim", type=int, default=32)
    parser.add_argument("--replicates", type=int, default=50)
    parser.add_argument("--noise-pairs", type=int, default=200)
    parser.add_argument("--feature-shift", type=float, default=0.04)
    parser.add_argument("--score-shift", type=float, default=-0.12)
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--method", choices=("jackknife", "bootstrap"), default="jackknife")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    plan = CIPlan(args.method, replicates=20, blocks=50)
    ref = GaussianStats.of(rng.normal(size=(50000, args.dim)) * np.sqrt(1 + 0.7**2))

    regression = []
    for _ in range(args.replicates):
        world = make_world(rng, args.prompts, args.seeds, args.dim)
        noise = seed_noise(rng, world)  # same seeds in both runs
        base = run(rng, world, noise)
        cur = run(rng, world, noise, args.feature_shift, args.score_shift)
        regression.append(verdicts(base, cur, world, ref, plan, args.alpha))

    world = make_world(rng, args.prompts, args.seeds, args.dim)
    null = [verdicts(run(rng, world, seed_noise(rng, world)), run(rng, world, seed_noise(rng, world)),
                     world, ref, plan, args.alpha) for _ in range(args.noise_pairs)]

    print(f"{args.prompts} prompts x {args.seeds} seeds, {args.dim}-d features, alpha {args.alpha}, "
          f"FID CIs: {plan.method}, {plan.replicates} replicates")
    print(f"\n(a) constructed regression (feature shift {args.feature_shift:+g}, score shift "
          f"{args.score_shift:+g}), {args.replicates} replicates: share called 'regressed'")
    print("\n| gate | regressed | rate | 95% CI |\n| --- | ---: | ---: | --- |")
    for name in ("fid unpaired", "fid paired", "score unpaired", "score paired"):
        print(rate_line(name, sum(v[name] for v in regression), args.replicates))
    print(f"\n(b) {args.noise_pairs} pure-noise pairs (same model, other seeds): share that fails "
          f"(nominal: {args.alpha / 2:.1%} for the one-sided gate, {args.alpha:.0%} for either direction)")
    print("\n| gate | failed | rate | 95% CI | nominal | p(rate > nominal) |\n| --- | ---: | ---: | --- | ---: | ---: |")
    for name in null[0]:
        nominal = args.alpha if "either" in name else args.alpha / 2
        print(rate_line(name, sum(v[name] for v in null), args.noise_pairs, nominal))


if __name__ == "__main__":
    main()
