import numpy as np
import pytest

from evalkit.metrics.clip_score import clip_scores, mean_with_ci


def test_clip_score_clamps_each_sample():
    img = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]])
    txt = np.array([[1.0, 0.0], [0.0, -1.0], [0.8, 0.6]])
    assert clip_scores(img, txt) == pytest.approx([100.0, 0.0, 96.0])


def test_mean_with_ci_bootstraps_prompts():
    scores = np.array([10.0, 12.0, 30.0, 32.0, 20.0, 22.0])
    e = mean_with_ci(scores, ["a", "a", "b", "b", "c", "c"])
    assert e.value == pytest.approx(21.0) and e.n == 6
    assert 11.0 <= e.low <= e.value <= e.high <= 31.0
