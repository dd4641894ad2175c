"""One unet of an imagen-pytorch cascade sampled through the package's own `sample()`.

imagen-pytorch draws its noise inside `sample()` from torch's global generator, one
tensor per batch, so an image would depend on the other prompts of its batch and on
everything drawn before. `per_image_noise` makes row i of every `torch.randn` /
`torch.randn_like` it draws come from job i's own `torch.Generator` (on the CPU, then moved
to the model's device), which is what every other evalkit generator does; it checks that
the global generators did not move, so a draw made any other way is an error, not a
silently batch-dependent image.

Each call runs one unet (`start_at_unet_number = stop_at_unet_number`), the previous
unet's images given as `start_image_or_video`: what lets every unet have its own prompt,
guidance, steps and low-resolution noise level. With the same settings for every unet the
noise streams and so the images equal those of one `sample()` over the whole cascade.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Sequence


class NoiseOutsideGenerators(RuntimeError):
    """imagen-pytorch drew random numbers that per_image_noise does not route (a package change)."""


def _rng_states():
    import torch

    cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_available() and torch.cuda.is_initialized() else []
    return [torch.get_rng_state(), *cuda]


@contextmanager
def per_image_noise(generators: Sequence[Any]):
    """Inside: torch.randn / randn_like of a [len(generators), ...] tensor draw row i from generators[i].

    The functions are swapped on the torch module for the duration of one sample() call, so
    nothing else may draw from another thread meanwhile (evalkit samples in one thread)."""
    import torch

    real_randn, real_like = torch.randn, torch.randn_like
    n = len(generators)

    def draw(shape, dtype, device):
        if len(shape) == 0 or shape[0] != n:
            raise NoiseOutsideGenerators(f"imagen-pytorch drew noise of shape {tuple(shape)} for a batch of {n} images")
        rows = [real_randn(tuple(shape[1:]), generator=g) for g in generators]
        return torch.stack(rows).to(device=device, dtype=dtype or torch.get_default_dtype())

    def randn(*size, generator=None, dtype=None, device=None, **kwargs):
        if generator is not None or kwargs:
            return real_randn(*size, generator=generator, dtype=dtype, device=device, **kwargs)
        shape = tuple(size[0]) if len(size) == 1 and not isinstance(size[0], int) else tuple(size)
        return draw(shape, dtype, device)

    def randn_like(x, *, dtype=None, device=None, **kwargs):
        return draw(x.shape, dtype or x.dtype, device or x.device)

    before = _rng_states()
    torch.randn, torch.randn_like = randn, randn_like
    try:
        yield
    finally:
        torch.randn, torch.randn_like = real_randn, real_like
    if not all(torch.equal(a, b) for a, b in zip(before, _rng_states())):
        raise NoiseOutsideGenerators("imagen-pytorch drew random numbers from torch's global generator during sampling; "
                                     "images would depend on their batch (is this imagen-pytorch 2.1.0?)")


@dataclass(frozen=True)
class UnetCall:
    """The settings of one unet's sample() call."""

    unet: int  # 1-based, as imagen-pytorch counts
    steps: int
    cond_scale: float
    lowres_noise: float | None = None  # None: the model's lowres_sample_noise_level
    dynamic_thresholding: bool | None = None  # None: the model's
    percentile: float | None = None  # dynamic thresholding percentile; None: the model's
    remove_parallel: bool = True  # cfg_remove_parallel_component
    keep_parallel_frac: float = 0.0  # cfg_keep_parallel_frac
    dtype: str = "float32"  # float16 / bfloat16: the unet runs under torch.autocast


@dataclass(frozen=True)
class UnetInputs:
    embeds: Any  # [B, L, D] text embeddings (padding zeroed)
    masks: Any  # [B, L] bool
    generators: Sequence[Any]  # one torch.Generator per image
    low: Any = None  # the previous unet's images in [-1, 1] (None for unet 1)


@contextmanager
def _unet_settings(model, call: UnetCall):
    """Steps and thresholding of one unet: model attributes sample() reads, set for one call and restored."""
    i = call.unet - 1
    thresholds, percentile = model.dynamic_thresholding, model.dynamic_thresholding_percentile
    if call.dynamic_thresholding is not None:
        model.dynamic_thresholding = tuple(call.dynamic_thresholding if j == i else t for j, t in enumerate(thresholds))
    if call.percentile is not None:
        model.dynamic_thresholding_percentile = call.percentile
    if hasattr(model, "hparams"):  # ElucidatedImagen: the Karras sampler's steps
        saved = model.hparams[i]
        model.hparams[i] = saved._replace(num_sample_steps=call.steps)
    else:  # Imagen: the continuous-time DDPM's sampling steps
        saved = model.noise_schedulers[i].num_timesteps
        model.noise_schedulers[i].num_timesteps = call.steps
    try:
        yield
    finally:
        if hasattr(model, "hparams"):
            model.hparams[i] = saved
        else:
            model.noise_schedulers[i].num_timesteps = saved
        model.dynamic_thresholding, model.dynamic_thresholding_percentile = thresholds, percentile


def sample_unet(model, call: UnetCall, inputs: UnetInputs):
    """The images of one unet for one micro batch: a CPU float tensor in [-1, 1]."""
    import torch

    device = next(model.parameters()).device
    kwargs: dict[str, Any] = {
        "text_embeds": inputs.embeds.to(device=device, dtype=torch.float32),
        "text_masks": inputs.masks.to(device=device, dtype=torch.bool),
        "cond_scale": float(call.cond_scale),
        "start_at_unet_number": call.unet,
        "stop_at_unet_number": call.unet,
        "cfg_remove_parallel_component": call.remove_parallel,
        "cfg_keep_parallel_frac": call.keep_parallel_frac,
        "use_tqdm": False,
        "device": device,
    }
    if call.lowres_noise is not None:
        kwargs["lowres_sample_noise_level"] = call.lowres_noise
    if inputs.low is not None:
        kwargs["start_image_or_video"] = ((inputs.low + 1) / 2).to(device)  # sample() works in [0, 1]
    autocast = torch.autocast(device.type, dtype=getattr(torch, call.dtype), enabled=call.dtype != "float32")
    with per_image_noise(inputs.generators), _unet_settings(model, call), autocast:
        images = model.sample(**kwargs)
    return images.float().cpu() * 2 - 1
