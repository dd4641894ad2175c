"""One stage of an Imagen-style cascade: classifier-free guided sampling with x0 thresholding.

Works with any diffusers scheduler whose samples are x_t = sqrt(a_t) x0 + sqrt(1 - a_t) eps
with the model input unscaled (DDPM, DDIM, DPM-Solver, UniPC, DEIS): thresholding rewrites
the guided model output so that it implies the thresholded x0, and the scheduler steps on it.
Every random draw comes from the job's own torch.Generator, so an image depends on its
seed and settings alone, not on its batch.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass

from evalkit.errors import UserError
from evalkit.generators.cascade.guidance import classifier_free_guidance, output_from_x0, predict_x0, threshold

# Schedulers whose state is x_t = sqrt(a) x0 + sqrt(1 - a) eps at integer training timesteps.
VP_SCHEDULERS = (
    "DDPMScheduler", "DDIMScheduler", "DPMSolverMultistepScheduler", "DPMSolverSinglestepScheduler",
    "UniPCMultistepScheduler", "DEISMultistepScheduler",
)


@dataclass(frozen=True)
class StageRun:
    """What one stage is asked to do for a batch (all tensors on the stage's device)."""

    steps: int
    guidance: float
    thresholding: str
    percentile: float
    aug_level: float = 0.0  # super-resolution stages: noise level of the upsampled input, in [0, 1)


def make_scheduler(config: dict, name: str | None):
    """The stage's own schedule, optionally sampled with another scheduler class; evalkit owns thresholding."""
    import diffusers

    cls_name = name or config.get("_class_name", "DDPMScheduler")
    cls = getattr(diffusers, cls_name, None)
    if cls is None or not hasattr(cls, "from_config"):
        raise UserError(f"imagen_cascade: unknown diffusers scheduler '{cls_name}' (e.g. DDIMScheduler, DDPMScheduler)")
    owned = {k: False for k in ("clip_sample", "thresholding") if k in config}
    return cls.from_config({**config, **owned})


def check_scheduler(scheduler, run: StageRun) -> None:
    if run.thresholding != "none" and type(scheduler).__name__ not in VP_SCHEDULERS:
        raise UserError(
            f"imagen_cascade: {run.thresholding} thresholding needs a scheduler on x_t = sqrt(a) x0 + sqrt(1-a) eps "
            f"({', '.join(VP_SCHEDULERS)}); got {type(scheduler).__name__}, or set thresholding: none"
        )


def _randn(shape, generators, device, dtype):
    import torch

    return torch.stack([torch.randn(shape, generator=g) for g in generators]).to(device=device, dtype=dtype)


def upsample_and_augment(low, size: int, aug_level: float, noising, generators):
    """The low-resolution input of a super-resolution stage: bilinear upsampling, then noise at aug_level.

    Returns the conditioning image and the integer augmentation timestep the UNet is told.
    """
    import torch
    import torch.nn.functional as F

    up = F.interpolate(low.float(), size=(size, size), mode="bilinear", align_corners=False).clamp(-1, 1)
    t_aug = int(round(aug_level * (noising.config.num_train_timesteps - 1)))
    noise = _randn(up.shape[1:], generators, "cpu", torch.float32).to(up.device)
    if t_aug > 0:
        up = noising.add_noise(up, noise, torch.tensor([t_aug] * up.shape[0], device=up.device))
    return up, t_aug


def sample_stage(unet, scheduler, text, uncond, generators, size: int, run: StageRun, low=None, noising=None):
    """Images in [-1, 1] of shape [B, 3, size, size].

    text / uncond: (embeddings [B, L, D], attention mask [B, L]) for the prompts and for the
    unconditional (empty or negative) prompt. `low`: previous stage's images for super-resolution.
    """
    import torch

    device, dtype = unet.device, unet.dtype
    b = len(generators)
    guided = run.guidance != 1.0
    hidden, mask = text
    labels = None
    if guided:
        hidden, mask = torch.cat([uncond[0], hidden]), torch.cat([uncond[1], mask])
    hidden = hidden.to(device=device, dtype=dtype)
    mask = mask.to(device)
    x = _randn((3, size, size), generators, device, torch.float32) * scheduler.init_noise_sigma
    cond_image = None
    if low is not None:
        cond_image, t_aug = upsample_and_augment(low.to(device), size, run.aug_level, noising, generators)
        cond_image = cond_image.to(dtype)
        labels = torch.full((b,), t_aug, device=device, dtype=torch.long)
        if guided:
            cond_image, labels = torch.cat([cond_image, cond_image]), torch.cat([labels, labels])
    scheduler.set_timesteps(run.steps, device=device)
    step_kwargs = {"generator": generators} if "generator" in inspect.signature(scheduler.step).parameters else {}
    prediction = scheduler.config.get("prediction_type", "epsilon")
    alphas = scheduler.alphas_cumprod.to(device) if run.thresholding != "none" else None
    for t in scheduler.timesteps:
        model_in = scheduler.scale_model_input(x, t).to(dtype)
        if guided:
            model_in = torch.cat([model_in, model_in])
        if cond_image is not None:
            model_in = torch.cat([model_in, cond_image], dim=1)
        with torch.no_grad():
            out = unet(model_in, t, encoder_hidden_states=hidden, encoder_attention_mask=mask,
                       class_labels=labels, return_dict=False)[0].float()
        out = out[:, :3]  # drop learned-variance channels, if any
        if guided:
            out = classifier_free_guidance(*out.chunk(2), run.guidance)
        if alphas is not None:
            a = alphas[int(t)].float()
            x0 = threshold(predict_x0(x, out, a, prediction), run.thresholding, run.percentile)
            out = output_from_x0(x, x0, a, prediction)
        x = scheduler.step(out, t, x, **step_kwargs).prev_sample
    return x.clamp(-1.0, 1.0)
