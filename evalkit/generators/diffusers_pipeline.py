"""Any diffusers text-to-image pipeline (SD 1.x/2.x/XL, ...) by hub id or local directory."""

from __future__ import annotations

from typing import Sequence

from evalkit.errors import UserError
from evalkit.fingerprint import dir_fingerprint
from evalkit.generators.model_ref import check_common, load_failed, local_dir, torch_dtype
from evalkit.generators.quiet import quiet_hf_logging
from evalkit.types import GenerationConfig, ImageJob

WHO = "diffusers_pipeline"


def _scheduler(cls, config, options: dict):
    """cls.from_config(config) with `options` overriding it; unknown option names are an error, not ignored."""
    import inspect

    known = inspect.signature(cls.__init__).parameters
    unknown = [k for k in options if k not in known]
    if unknown:
        raise UserError(
            f"{cls.__name__} has no option '{unknown[0]}' (scheduler_options); its options are: "
            f"{', '.join(k for k in known if k != 'self')}"
        )
    return cls.from_config(config, **options)


class DiffusersPipelineGenerator:
    name = "diffusers_pipeline"

    def __init__(
        self,
        model: str,
        revision: str | None = None,
        variant: str | None = None,
        device: str = "cpu",
        dtype: str = "float32",
        batch_size: int = 4,
        scheduler: str | None = None,
        scheduler_options: dict | None = None,
        safety_checker: bool = True,
    ):
        check_common(WHO, dtype, batch_size)
        self.model_ref = model
        self.local_dir = local_dir(model, WHO, "model_index.json", "pipeline")
        self.revision, self.variant = revision, variant
        self.device, self.dtype, self.batch_size = device, dtype, batch_size
        self.scheduler = scheduler
        # e.g. {timestep_spacing: trailing, use_karras_sigmas: true}: overrides of the scheduler's config
        if scheduler_options is not None and not isinstance(scheduler_options, dict):
            raise UserError(f"{WHO}: scheduler_options must be a mapping like {{timestep_spacing: trailing}}, got {scheduler_options!r}")
        self.scheduler_options = dict(scheduler_options or {})
        # False drops the pipeline's NSFW filter, which blacks out flagged images (and so moves FID).
        self.safety_checker = safety_checker
        self._pipe = None

    def _load(self):
        import diffusers

        quiet_hf_logging()
        source = str(self.local_dir) if self.local_dir else self.model_ref
        extra = {} if self.safety_checker else {"safety_checker": None, "requires_safety_checker": False}
        try:
            pipe = diffusers.DiffusionPipeline.from_pretrained(
                source, revision=self.revision, variant=self.variant, dtype=torch_dtype(self.dtype), **extra
            )
        except (OSError, ValueError) as err:
            raise load_failed(WHO, source, err) from None
        if self.scheduler:
            cls = getattr(diffusers, self.scheduler, None)
            if cls is None or not hasattr(cls, "from_config"):
                raise UserError(f"unknown diffusers scheduler '{self.scheduler}' (e.g. DDIMScheduler, EulerDiscreteScheduler)")
            pipe.scheduler = _scheduler(cls, pipe.scheduler.config, self.scheduler_options)
        elif self.scheduler_options:
            pipe.scheduler = _scheduler(type(pipe.scheduler), pipe.scheduler.config, self.scheduler_options)
        pipe.set_progress_bar_config(disable=True)
        return pipe.to(self.device)

    @property
    def pipe(self):
        if self._pipe is None:
            self._pipe = self._load()
        return self._pipe

    def generate(self, jobs: Sequence[ImageJob], config: GenerationConfig) -> list:
        import torch

        # One generator per image, seeded by the job alone: the image does not depend on
        # which other prompts share its batch or where it sits in it.
        generators = [torch.Generator(device=self.device).manual_seed(job.seed) for job in jobs]
        kwargs = {}
        if config.height:
            kwargs["height"] = config.height
        if config.width:
            kwargs["width"] = config.width
        if config.negative_prompt is not None:
            kwargs["negative_prompt"] = [config.negative_prompt] * len(jobs)
        out = self.pipe(
            prompt=[job.prompt.text for job in jobs],
            num_inference_steps=config.num_inference_steps,
            guidance_scale=config.guidance_scale,
            generator=generators,
            output_type="pil",
            **kwargs,
        )
        return list(out.images)

    def fingerprint(self) -> dict:
        fp = {
            "generator": self.name,
            "model": self.model_ref,
            "dtype": self.dtype,
            "device": self.device,
            "scheduler": self.scheduler,
        }
        # Only when set, so fingerprints of specs that do not use them stay as they were.
        if self.scheduler_options:
            fp["scheduler_options"] = dict(sorted(self.scheduler_options.items()))
        if not self.safety_checker:
            fp["safety_checker"] = False
        if self.local_dir is not None:
            fp["model_dir_sha"] = dir_fingerprint(self.local_dir)
        else:
            fp["revision"] = self.revision or "main"
            fp["variant"] = self.variant
        return fp
