"""Sample-size advice: each threshold, on both sides of it."""

import numpy as np
import pytest

from evalkit.metrics.functional.kernel import kid_subsets
from evalkit.metrics.functional.knn import knn_metrics
from evalkit.metrics.functional.sample_size import (
    expected_perfect_coverage,
    frechet_sample_size_warning,
    kid_sample_size_warning,
    knn_sample_size_warning,
)


def test_frechet_thresholds():
    assert "rank-deficient" in frechet_sample_size_warning(2048, 2048)  # rank <= n - 1 < d
    assert "FID reference statistics from 500 samples" in frechet_sample_size_warning(30000, 2048, n_ref=500)
    biased = frechet_sample_size_warning(5000, 2048, n_ref=50000, what="FD-DINOv2")
    assert biased.startswith("FD-DINOv2 from 5000 samples < 10,000") and "same N" in biased
    assert frechet_sample_size_warning(10000, 2048, n_ref=10000) is None


def test_kid_thresholds_and_the_error_they_prevent():
    message = kid_sample_size_warning(800, 5000, subset_size=1000)
    assert message.startswith("KID subset size 1000 is larger than the smaller sample (800)")
    with pytest.raises(ValueError, match="larger than the number of samples"):
        kid_subsets(np.zeros((800, 2)), np.zeros((5000, 2)), subset_size=1000, subsets=1)
    assert "share 67%" in kid_sample_size_warning(1500, 5000, subset_size=1000)
    assert kid_sample_size_warning(2000, 5000, subset_size=1000) is None


def test_knn_thresholds():
    assert "needs more than 5 samples" in knn_sample_size_warning(5, 1000, k=5, what="density/coverage")
    unbalanced = knn_sample_size_warning(2000, 20000, k=5, what="density/coverage")
    assert "unbalanced" in unbalanced and "0.969 at equal sizes" in unbalanced
    assert "< 10,000" in knn_sample_size_warning(5000, 5000, k=3)
    assert knn_sample_size_warning(10000, 10000, k=3) is None


def test_expected_perfect_coverage_by_simulation():
    # The formula behind the balance rule, checked against the metric itself: 300 trials
    # of one distribution with 40 generated vs 120 real samples (sd of the mean ~0.005).
    rng = np.random.default_rng(0)
    shares = [knn_metrics(rng.normal(size=(40, 3)), rng.normal(size=(120, 3)), pr_k=None, dc_k=5).coverage
              for _ in range(300)]
    assert np.mean(shares) == pytest.approx(expected_perfect_coverage(120, 40, 5), abs=0.015)
    assert expected_perfect_coverage(10000, 10000, 5) == pytest.approx(1 - 0.5**5, abs=1e-3)
