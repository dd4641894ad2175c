"""Guidance and thresholding formulas against hand-computed values."""

from __future__ import annotations

import pytest
import torch

from evalkit.generators.cascade.guidance import (
    classifier_free_guidance,
    dynamic_threshold,
    output_from_x0,
    predict_x0,
    static_threshold,
    threshold,
)


def test_static_threshold_clips_to_data_range():
    x0 = torch.tensor([[-2.0, -0.5, 0.3, 1.5]])
    assert torch.equal(static_threshold(x0), torch.tensor([[-1.0, -0.5, 0.3, 1.0]]))


def test_dynamic_threshold_p0995_on_known_quantile():
    # |x| = 0.00, 0.01, ..., 2.00 (201 values, alternating signs): the 0.995 quantile sits at
    # position 0.995 * 200 = 199 exactly, i.e. the value 1.99, so s = 1.99.
    mags = torch.arange(201, dtype=torch.float64) / 100
    signs = torch.where(torch.arange(201) % 2 == 0, 1.0, -1.0).double()
    x0 = (mags * signs).reshape(1, 1, 1, 201)
    out = dynamic_threshold(x0, 0.995).reshape(-1)
    assert out[200].item() == pytest.approx(1.0)  # 2.00 clipped to 1.99, divided by 1.99
    assert out[100].item() == pytest.approx(1.0 / 1.99)  # 1.00 -> 1/1.99 = 0.502513
    assert out[199].item() == pytest.approx(-1.0)  # -1.99 -> -1
    assert out[3].item() == pytest.approx(-0.03 / 1.99)


def test_dynamic_threshold_interpolates_between_order_statistics():
    # 5 values: position 0.995 * 4 = 3.98 -> 3 + 0.98 * (4 - 3) = 3.98.
    x0 = torch.tensor([0.0, -1.0, 2.0, -3.0, 4.0], dtype=torch.float64).reshape(1, 5)
    expected = torch.tensor([0.0, -1.0, 2.0, -3.0, 3.98], dtype=torch.float64) / 3.98
    assert torch.allclose(dynamic_threshold(x0, 0.995), expected.reshape(1, 5))


def test_dynamic_threshold_s_never_below_one_and_per_sample():
    small = torch.tensor([[0.5, -0.25, 0.1, 0.0]])
    big = torch.tensor([[4.0, -4.0, 4.0, -4.0]])
    out = dynamic_threshold(torch.cat([small, big]), 0.995)
    assert torch.equal(out[0], small[0])  # s = max(1, 0.49...) = 1: unchanged, not stretched
    assert torch.allclose(out[1], torch.tensor([1.0, -1.0, 1.0, -1.0]))  # s = 4


def test_dynamic_threshold_rejects_bad_percentile():
    with pytest.raises(ValueError, match="percentile"):
        dynamic_threshold(torch.zeros(1, 3), 1.5)


def test_threshold_dispatch():
    x0 = torch.tensor([[3.0, -0.5]])
    assert torch.equal(threshold(x0, "none"), x0)
    assert torch.equal(threshold(x0, "static"), torch.tensor([[1.0, -0.5]]))
    with pytest.raises(ValueError, match="unknown thresholding"):
        threshold(x0, "soft")


def test_classifier_free_guidance_formula():
    uncond, cond = torch.tensor([1.0, 2.0]), torch.tensor([3.0, 0.0])
    # eps = w * cond + (1 - w) * uncond = uncond + w (cond - uncond)
    assert torch.equal(classifier_free_guidance(uncond, cond, 7.5), torch.tensor([16.0, -13.0]))
    assert torch.equal(classifier_free_guidance(uncond, cond, 1.0), cond)
    assert torch.equal(classifier_free_guidance(uncond, cond, 0.0), uncond)


@pytest.mark.parametrize("kind", ["epsilon", "v_prediction", "sample"])
def test_x0_parameterisation_round_trip(kind):
    gen = torch.Generator().manual_seed(0)
    sample, output = torch.randn(2, 3, 4, 4, generator=gen), torch.randn(2, 3, 4, 4, generator=gen)
    alpha_bar = torch.tensor(0.3)
    x0 = predict_x0(sample, output, alpha_bar, kind)
    assert torch.allclose(output_from_x0(sample, x0, alpha_bar, kind), output, atol=1e-5)
    if kind == "epsilon":  # x_t = sqrt(a) x0 + sqrt(1 - a) eps
        assert torch.allclose(alpha_bar.sqrt() * x0 + (1 - alpha_bar).sqrt() * output, sample, atol=1e-5)
