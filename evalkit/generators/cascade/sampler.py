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
from typing import Any

from evalkit.errors import UserError
from evalkit.generators.cascade.guidance import classifier_free_guidance, output_from_x0, predict_x0, threshold
from evalkit.generators.model_ref import scheduler_class

# Schedulers whose state is x_t = sqrt(a) x0 + sqrt(1 - a) eps at integer training timesteps.
VP_SCHEDULERS = (
    "DDPMScheduler", "DDIMScheduler", "DPMSolverMultistepScheduler", "DPMSolverSinglestepScheduler",
    "UniPCMultistepScheduler", "DEISMultistepScheduler",
)


@dataclass(frozen=True)
class StageRun:
    """What one stage is asked to do for a batch."""

    size: int  # output resolution
    steps: int
    guidance: float
    thresholding: str
    percentile: float
    aug_level: float = 0.0  # super-resolution stages: noise level of the upsampled input, in [0, 1)


@dataclass(frozen=True)
class StageModels:
    """A loaded stage: its UNet, the scheduler that samples and the training schedule that noises."""

    unet: Any
    scheduler: Any
    noising: Any  # DDPMScheduler of the stage's training schedule, for augmentation noise


@dataclass(frozen=True)
class Conditioning:
    """A micro batch's inputs: (embeddings [B, L, D], mask [B, L]) for the prompts and the
    unconditional (empty or negative) prompt, one generator per image, and the previous
    stage's images in [-1, 1] for a super-resolution stage."""

    text: tuple
    uncond: tuple
    generators: list
    low: Any = None


@dataclass(frozen=True)
class _UNetInputs:
    hidden: Any
    mask: Any
    cond_image: Any  # upsampled low-resolution input (super-resolution stages), else None
    labels: Any  # augmentation timestep per image, else None
    guided: bool  # conditional and unconditional halves in one batch


def make_scheduler(config: dict, name: str | None):
    """The stage's own schedule, optionally sampled with another scheduler class; evalkit owns thresholding."""
    cls = scheduler_class(name or config.get("_class_name", "DDPMScheduler"), "generator.scheduler")
    owned = {k: False for k in ("clip_sample", "thresholding") if k in config}
    return cls.from_config({**config, **owned})


def check_scheduler(scheduler, run: StageRun, where: str) -> None:
    """Thresholding rewrites x0, which only schedulers on x_t = sqrt(a) x0 + sqrt(1 - a) eps have."""
    if run.thresholding != "none" and type(scheduler).__name__ not in VP_SCHEDULERS:
        raise UserError(
            f"generator.scheduler: {where} uses {run.thresholding} thresholding, and {run.thresholding} thresholding "
            f"needs a scheduler on x_t = sqrt(a) x0 + sqrt(1-a) eps ({', '.join(VP_SCHEDULERS)}); "
            f"got {type(scheduler).__name__}, or set thresholding: none"
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


def sample_stage(models: StageModels, cond: Conditioning, run: StageRun):
    """Images in [-1, 1] of shape [B, 3, size, size]."""
    import torch

    unet = models.unet
    guided = run.guidance != 1.0
    hidden, mask = cond.text
    if guided:
        hidden, mask = torch.cat([cond.uncond[0], hidden]), torch.cat([cond.uncond[1], mask])
    hidden, mask = hidden.to(device=unet.device, dtype=unet.dtype), mask.to(unet.device)
    # The initial noise is drawn before the augmentation noise, from the same generators.
    x = _randn((3, run.size, run.size), cond.generators, unet.device, torch.float32) * models.scheduler.init_noise_sigma
    cond_image = labels = None
    if cond.low is not None:
        cond_image, t_aug = upsample_and_augment(cond.low.to(unet.device), run.size, run.aug_level, models.noising,
                                                 cond.generators)
        cond_image = cond_image.to(unet.dtype)
        labels = torch.full((len(cond.generators),), t_aug, device=unet.device, dtype=torch.long)
        if guided:
            cond_image, labels = torch.cat([cond_image, cond_image]), torch.cat([labels, labels])
    return _denoise(models, x, _UNetInputs(hidden, mask, cond_image, labels, guided), run, cond.generators)


def _denoise(models: StageModels, x, inputs: _UNetInputs, run: StageRun, generators):
    scheduler = models.scheduler
    scheduler.set_timesteps(run.steps, device=models.unet.device)
    step_kwargs = {"generator": generators} if "generator" in inspect.signature(scheduler.step).parameters else {}
    prediction = scheduler.config.get("prediction_type", "epsilon")
    alphas = scheduler.alphas_cumprod.to(models.unet.device) if run.thresholding != "none" else None
    for t in scheduler.timesteps:
        out = _model_output(models.unet, scheduler.scale_model_input(x, t), t, inputs, run.guidance)
        if alphas is not None:
            a = alphas[int(t)].float()
            x0 = threshold(predict_x0(x, out, a, prediction), run.thresholding, run.percentile)
            out = output_from_x0(x, x0, a, prediction)
        x = scheduler.step(out, t, x, **step_kwargs).prev_sample
    return x.clamp(-1.0, 1.0)


def _model_output(unet, model_in, t, inputs: _UNetInputs, guidance: float):
    """The UNet's (guided) noise prediction for one step, in float32, without learned-variance channels."""
    import torch

    model_in = model_in.to(unet.dtype)
    if inputs.guided:
        model_in = torch.cat([model_in, model_in])
    if inputs.cond_image is not None:
        model_in = torch.cat([model_in, inputs.cond_image], dim=1)
    with torch.no_grad():
        out = unet(model_in, t, encoder_hidden_states=inputs.hidden, encoder_attention_mask=inputs.mask,
                   class_labels=inputs.labels, return_dict=False)[0].float()
    out = out[:, :3]  # drop learned-variance channels, if any
    if inputs.guided:
        out = classifier_free_guidance(*out.chunk(2), guidance)
    return out
