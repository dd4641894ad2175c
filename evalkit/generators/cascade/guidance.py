"""Classifier-free guidance and Imagen's x0 thresholding, as pure tensor functions.

Kept free of models and schedulers so the formulas can be checked against
hand-computed values (tests/generators/test_guidance.py).
"""

from __future__ import annotations

THRESHOLDING = ("none", "static", "dynamic")


def classifier_free_guidance(uncond, cond, w: float):
    """Imagen eq. 2: eps = w * eps(z, c) + (1 - w) * eps(z) = uncond + w * (cond - uncond).

    w = 1 is the conditional model alone, w = 0 the unconditional one.
    """
    return uncond + w * (cond - uncond)


def static_threshold(x0):
    """Clip the predicted clean image to the data range [-1, 1]."""
    return x0.clamp(-1.0, 1.0)


def dynamic_threshold(x0, p: float = 0.995):
    """Imagen's dynamic thresholding, per sample.

    s = max(1, quantile(|x0|, p)) over all pixels of the sample, then x0 <- clip(x0, -s, s) / s:
    saturated pixels are pushed inwards instead of clipped, so high guidance weights do not
    wash images out. Each sample is thresholded alone, so an image does not depend on the
    others in its batch (and torch.quantile's input-size limit applies per image only).
    """
    import torch

    if not 0.0 < p <= 1.0:
        raise ValueError(f"dynamic thresholding percentile must be in (0, 1], got {p}")
    out = []
    for sample in x0:
        flat = sample.detach().abs().reshape(-1).float()
        s = torch.quantile(flat, p).clamp(min=1.0).to(sample.dtype)
        out.append(sample.clamp(-s, s) / s)
    return torch.stack(out)


def threshold(x0, kind: str, p: float = 0.995):
    """Apply the thresholding named `kind` (none | static | dynamic) to x0."""
    if kind == "none":
        return x0
    if kind == "static":
        return static_threshold(x0)
    if kind == "dynamic":
        return dynamic_threshold(x0, p)
    raise ValueError(f"unknown thresholding '{kind}'; use one of {', '.join(THRESHOLDING)}")


def predict_x0(sample, model_output, alpha_bar, prediction_type: str = "epsilon"):
    """x0 implied by the model output at x_t = sqrt(a) x0 + sqrt(1 - a) eps (a = alpha_bar_t)."""
    a, b = alpha_bar ** 0.5, (1 - alpha_bar) ** 0.5
    if prediction_type == "epsilon":
        return (sample - b * model_output) / a
    if prediction_type == "v_prediction":
        return a * sample - b * model_output
    if prediction_type == "sample":
        return model_output
    raise ValueError(f"unsupported prediction_type '{prediction_type}'")


def output_from_x0(sample, x0, alpha_bar, prediction_type: str = "epsilon"):
    """The model output (same parameterisation) that implies `x0` at `sample`: inverse of predict_x0."""
    a, b = alpha_bar ** 0.5, (1 - alpha_bar) ** 0.5
    eps = (sample - a * x0) / b
    if prediction_type == "epsilon":
        return eps
    if prediction_type == "v_prediction":
        return a * eps - b * x0
    if prediction_type == "sample":
        return x0
    raise ValueError(f"unsupported prediction_type '{prediction_type}'")
