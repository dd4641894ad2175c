"""`imagen_cascade`: an Imagen-style cascade (text encoder -> 64x64 base -> super-resolution stages).

Built from diffusers' UNet2DConditionModel and schedulers and a transformers text encoder
(BERT, T5 or CLIP), read from a cascade folder (see checkpoint.py). The stage loop,
embeddings and residency are the shared skeleton's (skeleton.py); this module loads the
encoder and UNets and samples each stage with sampler.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from evalkit import builtin
from evalkit.errors import UserError
from evalkit.fingerprint import dir_fingerprint
from evalkit.generators.cascade.checkpoint import WHO, Cascade, check_unet, read_cascade
from evalkit.generators.cascade.sampler import (
    Conditioning, StageModels, StageRun, check_scheduler, make_scheduler, sample_stage,
)
from evalkit.generators.cascade.skeleton import CascadeGenerator, CascadeOptions, MicroBatch
from evalkit.generators.cascade.stages import StagePlan, StageSettings, fill_stages, plan_stages, refuse_on_first_stage
from evalkit.generators.model_ref import describe, load_failed, looks_like_path, torch_dtype
from evalkit.generators.text_encoders import OneEncoderParts, TextEncoderSpec, hidden_size
from evalkit.types import GenerationConfig

Thresholding = Literal["none", "static", "dynamic"]


class ImagenStage(StageSettings):
    """One stage's overrides; None: the generator-level option below."""

    aug_level: float | None = Field(None, ge=0, lt=1)
    thresholding: Thresholding | None = None
    percentile: float | None = Field(None, gt=0, le=1)


class ImagenCascadeOptions(CascadeOptions):
    model: str = Field(min_length=1)  # cascade folder (cascade.json) or builtin:tiny-imagen-*
    scheduler: str | None = None  # diffusers scheduler class to sample with; the stage's schedule stays
    thresholding: Thresholding = "dynamic"
    percentile: float = Field(0.995, gt=0, le=1)  # of |x0|, for dynamic thresholding
    aug_level: float = Field(0.0, ge=0, lt=1)  # noise augmentation of super-resolution inputs
    stages: list[ImagenStage] = []
    run_stages: int | None = Field(None, ge=1)  # stop after N stages (e.g. 1 for 64x64 FID)
    text_encoder: str | None = None  # another folder or hub id for the encoder, of the same type
    max_length: int | None = Field(None, ge=1)  # tokens per prompt; default: the cascade's
    revision: str | None = None  # of a hub text encoder


class ImagenCascadeGenerator(OneEncoderParts, CascadeGenerator):
    """Imagen-style cascade (BERT/T5/CLIP encoder, base + super-resolution UNets) from a local folder."""

    Options = ImagenCascadeOptions
    name = WHO
    options: ImagenCascadeOptions
    stages: tuple[ImagenStage, ...]

    def __init__(self, options: ImagenCascadeOptions):
        super().__init__(options)
        o = options
        self.model_ref = o.model
        root = builtin.resolve(o.model) if builtin.is_builtin(o.model) else Path(o.model).expanduser()
        self.cascade: Cascade = read_cascade(root)
        n = len(self.cascade.stages)
        if o.run_stages is not None and o.run_stages > n:
            raise UserError(f"generator.run_stages: must be between 1 and {n}, the cascade's stages (got {o.run_stages})")
        self.run_stages = o.run_stages or n
        defaults = [ImagenStage(aug_level=o.aug_level if i else 0.0, thresholding=o.thresholding, percentile=o.percentile)
                    for i in range(self.run_stages)]
        self.stages = fill_stages(o.stages, defaults)
        refuse_on_first_stage(o.stages, "aug_level", "stage 1")
        if o.text_encoder and looks_like_path(o.text_encoder) and not Path(o.text_encoder).expanduser().is_dir():
            raise UserError(f"generator.text_encoder: folder {o.text_encoder} does not exist; give a folder made by "
                            "save_pretrained (model and tokenizer) or a hub id")
        self.encoder = TextEncoderSpec(self.cascade.encoder_kind, o.text_encoder or self.cascade.encoder_source,
                                       o.max_length or self.cascade.max_length, revision=o.revision, who=WHO)

    @property
    def resolution(self) -> int:
        return self.cascade.stages[self.run_stages - 1].resolution

    # ---- checks that read configs only (no weights) ----------------------------------

    def check_output_size(self, config: GenerationConfig) -> None:
        for key, side in (("height", config.height), ("width", config.width)):
            if side is not None and side != self.resolution:
                raise UserError(
                    f"generation.{key}: this cascade makes {self.resolution}x{self.resolution} images after "
                    f"{self.run_stages} stage(s) (got {side}); remove generation.height/width or change run_stages"
                )

    def check_models(self) -> None:
        from diffusers import UNet2DConditionModel

        width = hidden_size(self.encoder.load_config())
        for stage, plan in zip(self.cascade.stages, plan_stages(self.stages, GenerationConfig())):
            check_unet(stage, dict(UNet2DConditionModel.load_config(stage.path / "unet")), self.encoder.kind, width)
            scheduler = make_scheduler(self._scheduler_config(stage), self.options.scheduler)
            check_scheduler(scheduler, self._stage_run(plan), f"stage {plan.index + 1}")

    @staticmethod
    def _scheduler_config(stage) -> dict:
        from diffusers import DDPMScheduler

        return dict(DDPMScheduler.load_config(stage.path / "scheduler"))

    def _stage_run(self, plan: StagePlan) -> StageRun:
        settings: ImagenStage = plan.settings  # type: ignore[assignment]
        return StageRun(
            size=self.cascade.stages[plan.index].resolution,
            steps=plan.steps,
            guidance=plan.guidance,
            thresholding=settings.thresholding,
            percentile=float(settings.percentile),
            aug_level=float(settings.aug_level or 0.0),
        )

    # ---- the parts the skeleton runs --------------------------------------------------

    def encode(self, encoder, texts: list[str]) -> list:
        hidden, mask = encoder.encode(texts)
        return [(hidden[i].cpu(), mask[i].cpu()) for i in range(len(texts))]

    def load_stage(self, plan: StagePlan) -> StageModels:
        from diffusers import DDPMScheduler, UNet2DConditionModel

        from evalkit.hf import quiet_hf_logging

        quiet_hf_logging()
        stage = self.cascade.stages[plan.index]
        try:
            unet = UNet2DConditionModel.from_pretrained(stage.path / "unet", dtype=torch_dtype(self.options.dtype))
        except (OSError, ValueError) as err:
            raise load_failed(WHO, str(stage.path / "unet"), err) from None
        config = self._scheduler_config(stage)
        return StageModels(
            unet=unet.to(self.options.device).eval(),
            scheduler=make_scheduler(config, self.options.scheduler),
            noising=DDPMScheduler.from_config(config),  # the training schedule, for augmentation noise
        )

    def sample(self, part: StageModels, micro: MicroBatch):
        import torch

        def stacked(pairs: list) -> tuple:
            return torch.stack([p[0] for p in pairs]), torch.stack([p[1] for p in pairs])

        cond = Conditioning(stacked(micro.embedded()), stacked(micro.negative()), micro.generators, micro.low)
        return sample_stage(part, cond, self._stage_run(micro.stage)).cpu()

    def fingerprint(self) -> dict:
        o = self.options
        external = self.encoder.source != self.cascade.encoder_source or not self.cascade.encoder_is_local
        fp = {
            "generator": self.name,
            "model": self.model_ref,
            "model_dir_sha": dir_fingerprint(self.cascade.root),
            "text_encoder": {"type": self.encoder.kind, "max_length": self.encoder.max_length},
            "dtype": o.dtype,
            "device": o.device,
            "scheduler": o.scheduler,
            "run_stages": self.run_stages,
            "stages": [s.dump() for s in self.stages],
        }
        if external:  # not inside the cascade folder: fingerprint it on its own
            path = Path(self.encoder.source).expanduser()
            fp["text_encoder"].update(describe(self.encoder.source, path if path.is_dir() else None, self.encoder.revision))
        return fp
