"""k-nearest-neighbour manifold metrics: precision/recall and density/coverage.

Exact (brute-force) Euclidean kNN in float64, with memory bounded by chunking: distances
are formed one block of rows at a time (|a|^2 + |b|^2 - 2 a.b, clipped at 0, as
torch.cdist and scikit-learn do) and only each sample's k-th-neighbour radius and the
running counts are kept. Peak memory is the two float64 feature matrices plus about two
blocks of `chunk_bytes` (the distances and a partitioned copy; docs/estimators.md).

Definitions, matched to the reference implementations:
- radius of a sample = distance to its k-th nearest neighbour in its own set, the
  sample itself included as the 0-th (the (k+1)-th smallest distance, duplicates count);
- precision / recall (Kynkäänniemi et al. 2019, k = 3), torch-fidelity 0.4 `prc`:
  precision = share of generated samples within (<=) the radius of some real sample,
  recall = share of real samples within (<=) the radius of some generated sample;
- density / coverage (Naeem et al. 2020, k = 5), the `prdc` package:
  density = (1 / (k M)) · sum over generated j of #{real i : d(i, j) < r_i},
  coverage = share of real i whose nearest generated sample is closer than (<) r_i.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CHUNK_BYTES = 64 * 2**20


@dataclass(frozen=True)
class KnnResult:
    """The four metrics; a pair not asked for (its k is None) is None."""

    precision: float | None = None
    recall: float | None = None
    density: float | None = None
    coverage: float | None = None


def _as_features(x) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or len(x) < 2:
        raise ValueError(f"need an (N, D) feature matrix with N >= 2, got shape {x.shape}")
    return x


def _squared_distance_chunks(a: np.ndarray, b: np.ndarray, chunk_bytes: int = CHUNK_BYTES):
    """Yield (row slice of a, squared distances of those rows to every row of b)."""
    rows = max(1, chunk_bytes // (8 * len(b)))
    b_sq = np.einsum("ij,ij->i", b, b)
    for start in range(0, len(a), rows):
        part = a[start:start + rows]
        sq = part @ b.T  # then in place: |a|^2 + |b|^2 - 2 a.b, clipped at 0
        sq *= -2.0
        sq += np.einsum("ij,ij->i", part, part)[:, None]
        sq += b_sq[None, :]
        yield slice(start, start + len(part)), np.maximum(sq, 0.0, out=sq)


def knn_radii(x, ks: tuple[int, ...], chunk_bytes: int = CHUNK_BYTES) -> np.ndarray:
    """Squared distance of each sample to its k-th nearest neighbour in x, for each k.

    Returns shape (len(ks), N). The sample itself is the 0-th neighbour, as in
    torch-fidelity (kthvalue(k + 1)) and prdc (the (k + 1)-th smallest distance).
    """
    x = _as_features(x)
    if max(ks) >= len(x):
        raise ValueError(f"k = {max(ks)} needs at least {max(ks) + 1} samples, got {len(x)}")
    out = np.empty((len(ks), len(x)))
    for rows, sq in _squared_distance_chunks(x, x, chunk_bytes):
        out[:, rows] = np.partition(sq, list(ks), axis=1)[:, list(ks)].T
    return out


def knn_metrics(gen, real, pr_k: int | None = 3, dc_k: int | None = 5,
                chunk_bytes: int = CHUNK_BYTES) -> KnnResult:
    """Precision/recall (k = pr_k; torch-fidelity `prc`) and density/coverage (k = dc_k;
    `prdc`) of generated features against real ones. A pair whose k is None is skipped.

    Passes over the data: one per set for the radii (real radii for both k in one
    partition) and one over the generated x real pairs for every count at once.
    """
    gen, real = _as_features(gen), _as_features(real)
    if gen.shape[1] != real.shape[1]:
        raise ValueError(f"feature dims differ: generated {gen.shape[1]}, real {real.shape[1]}")
    ks = tuple(k for k in (pr_k, dc_k) if k is not None)
    real_r = dict(zip(ks, knn_radii(real, ks, chunk_bytes)))
    gen_r = knn_radii(gen, (pr_k,), chunk_bytes)[0] if pr_k is not None else None
    precise, inside = np.zeros(len(gen), bool), 0.0
    recalled, nearest = np.zeros(len(real), bool), np.full(len(real), np.inf)
    for rows, sq in _squared_distance_chunks(gen, real, chunk_bytes):
        if pr_k is not None:
            precise[rows] = (sq <= real_r[pr_k][None, :]).any(axis=1)
            recalled |= (sq <= gen_r[rows, None]).any(axis=0)
        if dc_k is not None:
            inside += float((sq < real_r[dc_k][None, :]).sum())
            np.minimum(nearest, sq.min(axis=0), out=nearest)
    pr = (float(precise.mean()), float(recalled.mean())) if pr_k is not None else (None, None)
    dc = (inside / (dc_k * len(gen)), float((nearest < real_r[dc_k]).mean())) if dc_k is not None else (None, None)
    return KnnResult(*pr, *dc)


def precision_recall(gen, real, k: int = 3, chunk_bytes: int = CHUNK_BYTES) -> tuple[float, float]:
    """Improved precision and recall (Kynkäänniemi et al. 2019), as torch-fidelity 0.4 `prc`."""
    result = knn_metrics(gen, real, pr_k=k, dc_k=None, chunk_bytes=chunk_bytes)
    return result.precision, result.recall


def density_coverage(gen, real, k: int = 5, chunk_bytes: int = CHUNK_BYTES) -> tuple[float, float]:
    """Density and coverage (Naeem et al. 2020), as the `prdc` package's compute_prdc."""
    result = knn_metrics(gen, real, pr_k=None, dc_k=k, chunk_bytes=chunk_bytes)
    return result.density, result.coverage
