"""Paired comparisons of two runs that share prompt ids and seeds (issue 12, item 5).

Two run directories pair when their samples.parquet hold the same (prompt id, image
index, seed) rows: image i of one run is then the same prompt and the same starting noise
as image i of the other, and the difference of a metric between the runs is measured on
matched units. Rows are aligned by those keys; prompts are the resampling unit.

- Per-image scores (CLIP score, PickScore, HPSv2, VQAScore: the columns of
  per_sample.parquet) -> functional.paired.paired_mean_delta: mean of the paired
  per-prompt deltas, percentile-bootstrap CI over prompts, sign-flip permutation p-value.
- Fréchet distances (FID, FD on any extractor: metrics whose provenance has `fid_ci`) ->
  functional.frechet_ci.paired_fid_interval on both runs' features (features/<key>/ of each
  run directory, `features_key` in the provenance) against the shared reference statistics
  (the .npz, or the reference folder's features in the shared cache), the same prompts
  dropped from both runs in every jackknife replicate; p-value two-sided Student t.
- Anything else (KID, CMMD, the kNN metrics), runs that do not pair (other prompts or
  seeds), or a metrics.json without its run directory: no paired value; `compare` uses
  its unpaired rule for that value and says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from evalkit.results import RunResults

KEYS = ["prompt_id", "index", "seed"]


@dataclass(frozen=True)
class PairedValue:
    """current - baseline of one value on paired images: its 95% CI and two-sided p-value."""

    delta: float
    low: float
    high: float
    p_value: float
    prompts: int
    method: str  # "paired prompt bootstrap + sign-flip test" | "paired prompt jackknife (t)"


@dataclass(frozen=True)
class Pairing:
    """Both runs' directories and samples, aligned row by row (or why they do not pair)."""

    base_dir: Path | None
    cur_dir: Path | None
    base: object = None  # pandas DataFrames, in the same (prompt id, index, seed) order
    cur: object = None
    reason: str = ""

    @property
    def paired(self) -> bool:
        return self.base is not None


def run_dir(path) -> Path | None:
    """The run directory `path` names (or whose metrics.json it is), if it has samples.parquet."""
    path = Path(path)
    folder = path if path.is_dir() else path.parent
    return folder if (folder / "samples.parquet").is_file() else None


def pair_runs(base_path, cur_path) -> Pairing:
    import pandas as pd

    base_dir, cur_dir = run_dir(base_path), run_dir(cur_path)
    if base_dir is None or cur_dir is None:
        return Pairing(base_dir, cur_dir, reason="a metrics.json without its run directory (no per-image data)")
    base, cur = (pd.read_parquet(d / "samples.parquet") for d in (base_dir, cur_dir))
    if set(map(tuple, base[KEYS].to_numpy().tolist())) != set(map(tuple, cur[KEYS].to_numpy().tolist())):
        return Pairing(base_dir, cur_dir, reason="the runs do not share prompt ids, image indices and seeds")
    base, cur = (frame.sort_values(KEYS, kind="stable").reset_index(drop=True) for frame in (base, cur))
    return Pairing(base_dir, cur_dir, base, cur)


def paired_values(base: RunResults, cur: RunResults, pairing: Pairing) -> dict[str, PairedValue]:
    """The paired difference of every value that has a paired method, by value key."""
    if not pairing.paired:
        return {}
    out = {}
    scores = (_per_sample(pairing.base_dir, pairing.base), _per_sample(pairing.cur_dir, pairing.cur))
    prompts = pairing.base["prompt_id"].to_numpy()
    for name, metric in base.metrics.items():
        other = cur.metrics.get(name)
        if other is None:
            continue
        for key in metric.values:
            if scores[0] is not None and scores[1] is not None and key in scores[0] and key in scores[1]:
                out[key] = _score_delta(scores[0][key].to_numpy(), scores[1][key].to_numpy(), prompts)
            elif "fid_ci" in metric.provenance and key == name:
                value = _frechet_delta(metric.provenance, other.provenance, pairing, prompts)
                if value is not None:
                    out[key] = value
    return out


def _per_sample(folder: Path, samples):
    """per_sample.parquet's score columns in the samples' row order (None without the file)."""
    import pandas as pd

    file = folder / "per_sample.parquet"
    if not file.is_file():
        return None
    frame = pd.read_parquet(file)
    return samples[["prompt_id", "index"]].merge(frame, on=["prompt_id", "index"], how="left")


def _score_delta(base: np.ndarray, cur: np.ndarray, prompts: np.ndarray) -> PairedValue:
    from evalkit.metrics.functional.paired import paired_mean_delta

    d = paired_mean_delta(cur, base, groups=prompts)
    return PairedValue(d.delta, d.low, d.high, d.p_value, d.units, "paired prompt bootstrap + sign-flip test")


def _frechet_delta(base_prov: dict, cur_prov: dict, pairing: Pairing, prompts: np.ndarray) -> PairedValue | None:
    from evalkit.metrics.functional.frechet_ci import CIPlan, paired_fid_interval

    key = base_prov.get("features_key")
    if key is None or key != cur_prov.get("features_key"):
        return None
    feats = [_run_features(folder, key, frame) for folder, frame in ((pairing.base_dir, pairing.base),
                                                                     (pairing.cur_dir, pairing.cur))]
    ref = reference_stats(base_prov)
    if any(f is None for f in feats) or ref is None:
        return None
    plan = CIPlan(method=base_prov.get("fid_ci", "jackknife"), replicates=max(int(base_prov.get("fid_bootstrap", 20)), 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        interval = paired_fid_interval(feats[1], feats[0], ref, groups=prompts, plan=plan)
    if not np.isfinite(interval.std):
        return None
    low, high = interval.interval()
    return PairedValue(interval.value, low, high, interval.p_value(), len(set(prompts)), f"paired prompt {plan.method} (t)")


def _run_features(folder: Path, key: str, samples) -> np.ndarray | None:
    from evalkit.feature_cache import FeatureCache

    shas = samples["sha256"].tolist()
    found = FeatureCache(folder / "features" / key).lookup(shas)
    return np.stack([found[s] for s in shas]) if len(found) == len(set(shas)) else None


def reference_stats(provenance: dict):
    """The reference the Fréchet values were computed against, as GaussianStats: the
    statistics file, or the reference folder's features from the shared cache (None when
    they are no longer there)."""
    from evalkit import builtin
    from evalkit.cache import cache_dir
    from evalkit.feature_cache import FeatureCache
    from evalkit.fingerprint import file_hashes
    from evalkit.images import list_images
    from evalkit.metrics.functional.frechet_ci import GaussianStats

    ref = provenance.get("reference")
    if not ref:
        return None
    if str(ref).endswith(".npz") and Path(ref).is_file():
        with np.load(ref, allow_pickle=False) as data:
            n = int(data["n"]) if "n" in data.files else None
            return GaussianStats(data["mu"].astype(np.float64), data["sigma"].astype(np.float64), n)
    folder = builtin.resolve(ref) if builtin.is_builtin(ref) else Path(ref)
    if not folder.is_dir():
        return None
    files, _ = list_images(folder)
    shas = file_hashes(files)
    found = FeatureCache(cache_dir("features") / provenance["features_key"]).lookup(shas)
    if len(found) != len(set(shas)):
        return None
    return GaussianStats.of(np.stack([found[s] for s in shas]))
