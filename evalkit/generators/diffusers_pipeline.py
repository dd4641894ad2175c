"""Any diffusers text-to-image pipeline (SD 1.x/2.x/XL, ...) by hub id or local directory."""

from __future__ import annotations

from typing import Any, Sequence

from evalkit.errors import UserError
from evalkit.fingerprint import dir_fingerprint
from evalkit.generators.base import Generator, TorchOptions
from evalkit.generators.model_ref import hub_revision, load_failed, local_dir, scheduler_class, torch_dtype
from evalkit.hf import quiet_hf_logging
from evalkit.types import GenerationConfig, ImageJob

WHO = "diffusers_pipeline"


def _check_scheduler_options(cls, options: dict) -> None:
    """Unknown scheduler option names are an error, not silently ignored by from_config."""
    import inspect

    known = inspect.signature(cls.__init__).parameters
    unknown = [k for k in options if k not in known]
    if unknown:
        raise UserError(
            f"generator.scheduler_options.{unknown[0]}: {cls.__name__} has no such option; its options are: "
            f"{', '.join(k for k in known if k != 'self')}"
        )


def _scheduler(cls, config, options: dict):
    """cls.from_config(config) with `options` overriding it."""
    _check_scheduler_options(cls, options)
    return cls.from_config(config, **options)


class DiffusersPipelineOptions(TorchOptions):
    model: str  # hub id, local directory (save_pretrained), or builtin:tiny-sd
    revision: str | None = None
    variant: str | None = None
    scheduler: str | None = None  # any diffusers scheduler class name, e.g. DDIMScheduler
    # e.g. {timestep_spacing: trailing, use_karras_sigmas: true}: overrides of the scheduler's config
    scheduler_options: dict[str, Any] = {}
    # False drops the pipeline's NSFW filter, which blacks out flagged images (and so moves FID).
    safety_checker: bool = True


class DiffusersPipelineGenerator(Generator):
    """Any diffusers text-to-image pipeline, by hub id or local directory."""

    Options = DiffusersPipelineOptions

    def __init__(self, options: DiffusersPipelineOptions):
        super().__init__(options)
        self.local_dir = local_dir(options.model, WHO, "model_index.json", "pipeline")
        self._pipe = None

    def check(self, config: GenerationConfig | None = None) -> None:
        super().check(config)
        if self.options.scheduler:
            _check_scheduler_options(scheduler_class(self.options.scheduler, WHO), self.options.scheduler_options)

    def _load(self):
        import diffusers

        quiet_hf_logging()
        o = self.options
        source = str(self.local_dir) if self.local_dir else o.model
        extra = {} if o.safety_checker else {"safety_checker": None, "requires_safety_checker": False}
        try:
            pipe = diffusers.DiffusionPipeline.from_pretrained(
                source, revision=o.revision, variant=o.variant, dtype=torch_dtype(o.dtype), **extra
            )
        except (OSError, ValueError) as err:
            raise load_failed(WHO, source, err) from None
        if o.scheduler or o.scheduler_options:
            cls = scheduler_class(o.scheduler, WHO) if o.scheduler else type(pipe.scheduler)
            pipe.scheduler = _scheduler(cls, pipe.scheduler.config, o.scheduler_options)
        pipe.set_progress_bar_config(disable=True)
        return pipe.to(o.device)

    @property
    def pipe(self):
        if self._pipe is None:
            self._pipe = self._load()
        return self._pipe

    def generate(self, jobs: Sequence[ImageJob], config: GenerationConfig) -> list:
        import torch

        # One generator per image, seeded by the job alone: the image does not depend on
        # which other prompts share its batch or where it sits in it.
        generators = [torch.Generator(device=self.options.device).manual_seed(job.seed) for job in jobs]
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
        o = self.options
        fp = {"generator": "diffusers_pipeline", "model": o.model, "dtype": o.dtype, "device": o.device,
              "scheduler": o.scheduler}
        # Only when set, so fingerprints of specs that do not use them stay as they were.
        if o.scheduler_options:
            fp["scheduler_options"] = dict(sorted(o.scheduler_options.items()))
        if not o.safety_checker:
            fp["safety_checker"] = False
        if self.local_dir is not None:
            fp["model_dir_sha"] = dir_fingerprint(self.local_dir)
        else:
            fp["revision"] = hub_revision(o.model, o.revision)
            fp["variant"] = o.variant
        return fp
