"""`deepfloyd_if`: DeepFloyd IF stage I -> stage II -> optional stage III (SD x4 upscaler).

Each stage is a diffusers pipeline by hub id or local folder. The shared skeleton
(skeleton.py) computes the T5 embeddings of every prompt (and per-stage prompt override)
once per batch with stage I's encoder, shares them with stage II, and runs the stages in
turn; with `loading: sequential` peak memory is that of the largest part (T5-XXL, not
T5 + 3 UNets). The safety checker and watermarker are not loaded: they would alter the
measured images.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from evalkit.errors import UserError
from evalkit.generators.cascade.skeleton import CascadeGenerator, CascadeOptions, MicroBatch
from evalkit.generators.cascade.stages import StagePlan, StageSettings, fill_stages, refuse_on_first_stage
from evalkit.generators.model_ref import describe, load_failed, local_dir, torch_dtype
from evalkit.generators.text_encoders import hidden_size, unet_text_width
from evalkit.types import GenerationConfig

WHO = "deepfloyd_if"
MAX_LENGTH = 77  # IF's encode_prompt always pads/truncates T5 input to 77 tokens
NO_SAFETY = {"safety_checker": None, "feature_extractor": None, "watermarker": None}
NO_T5 = {"text_encoder": None, "tokenizer": None}  # stages I and II get stage I's embeddings
# per stage: the diffusers pipeline class, and what it is called in messages
PIPELINES = (("IFPipeline", "stage I pipeline"), ("IFSuperResolutionPipeline", "stage II pipeline"),
             ("StableDiffusionUpscalePipeline", "stage III (x4 upscaler) pipeline"))
NOISE_LEVELS = (None, 250, 100)  # IF's examples: stage II 250, stage III 100


class IFStage(StageSettings):
    noise_level: int | None = Field(None, ge=0, lt=1000)  # timestep of the noise added to the low-res input


class DeepFloydIFOptions(CascadeOptions):
    stage_1: str = Field("DeepFloyd/IF-I-XL-v1.0", min_length=1)
    stage_2: str = Field("DeepFloyd/IF-II-L-v1.0", min_length=1)
    stage_3: str | None = Field("stabilityai/stable-diffusion-x4-upscaler", min_length=1)  # null: stop at stage II
    revision: str | None = None  # of hub stages
    variant: str | None = None  # e.g. fp16
    stages: list[IFStage] = []
    clean_caption: bool = False  # IF's caption cleaning

    @field_validator("stage_1", "stage_2", mode="before")
    @classmethod
    def _required(cls, value: object) -> object:
        if value is None:
            raise ValueError("stage_1 and stage_2 are required (stage_3 is optional: set it to null to stop at stage II)")
        return value


class DeepFloydIFGenerator(CascadeGenerator):
    """DeepFloyd IF stage I -> II -> optional SD x4 upscaler, by hub id or local folders."""

    Options = DeepFloydIFOptions
    name = WHO
    shared_encoder_stages = 2  # stage III (SD upscaler) encodes with its own CLIP encoder
    options: DeepFloydIFOptions
    stages: tuple[IFStage, ...]

    def __init__(self, options: DeepFloydIFOptions):
        super().__init__(options)
        o = options
        self.refs = [r for r in (o.stage_1, o.stage_2, o.stage_3) if r]
        self.dirs = [local_dir(ref, f"generator.stage_{i + 1}", "model_index.json", PIPELINES[i][1])
                     for i, ref in enumerate(self.refs)]
        self.stages = fill_stages(o.stages, [IFStage(noise_level=level) for level in NOISE_LEVELS[: len(self.refs)]])
        refuse_on_first_stage(o.stages, "noise_level", "stage I")

    # ---- checks that read configs only (no weights) ----------------------------------

    def check_output_size(self, config: GenerationConfig) -> None:
        if config.height or config.width:
            raise UserError("generation.height/width: the output size is fixed by the stages "
                            "(stage I 64, II 256, III 1024 px); remove generation.height/width")

    def _source(self, index: int) -> tuple[str, dict]:
        """Where stage `index` loads from, and the revision keyword for a hub id."""
        if self.dirs[index] is not None:
            return str(self.dirs[index]), {}
        return self.refs[index], {"revision": self.options.revision}

    def _config(self, index: int, loader, **subfolder):
        """`loader(stage index's source, ...)`: a config file of that stage, no weights."""
        source, revision = self._source(index)
        try:
            return loader(source, **subfolder, **revision)
        except (OSError, ValueError) as err:
            raise load_failed(WHO, source, err) from None

    def check_models(self) -> None:
        """Each folder holds the right pipeline, stages I and II take stage I's T5 width, and
        stage III's noise level is one the upscaler accepts; reads config files only."""
        import diffusers
        import transformers

        pipes = [self._config(i, diffusers.DiffusionPipeline.load_config) for i in range(len(self.refs))]
        for i, config in enumerate(pipes):
            if config.get("_class_name") != PIPELINES[i][0]:
                raise UserError(f"generator.stage_{i + 1}: {self.refs[i]} holds {config.get('_class_name')} where the "
                                f"{PIPELINES[i][1]} must be {PIPELINES[i][0]}")
        width = hidden_size(self._config(0, transformers.AutoConfig.from_pretrained, subfolder="text_encoder"))
        for i in (0, 1):
            expects, which = unet_text_width(self._config(i, diffusers.UNet2DConditionModel.load_config, subfolder="unet"))
            if expects != width:
                raise UserError(f"{WHO}: the {PIPELINES[i][1]}'s UNet takes text embeddings of size {expects} "
                                f"({which}) but stage I's T5 encoder produces {width}; use stages of one IF family")
        if len(pipes) == 3:
            top, level = pipes[2].get("max_noise_level"), self.stages[2].noise_level
            if top is not None and level > top:
                raise UserError(f"generator.stages.2.noise_level: the x4 upscaler takes noise levels up to {top} "
                                f"(its max_noise_level) (got {level})")

    # ---- the parts the skeleton runs --------------------------------------------------

    @property
    def truncation_limit(self) -> str:
        return f"IF's {MAX_LENGTH} T5 tokens"

    def _from_pretrained(self, index: int, **components):
        import diffusers

        from evalkit.hf import quiet_hf_logging

        quiet_hf_logging()
        source, revision = self._source(index)
        kwargs: dict[str, Any] = {"dtype": torch_dtype(self.options.dtype), "variant": self.options.variant, **revision}
        try:
            pipe = getattr(diffusers, PIPELINES[index][0]).from_pretrained(source, **kwargs, **components)
        except (OSError, ValueError) as err:
            raise load_failed(WHO, source, err) from None
        pipe.set_progress_bar_config(disable=True)
        return pipe.to(self.options.device)

    def load_encoder(self):
        return self._from_pretrained(0, unet=None, **NO_SAFETY)

    def count_truncated(self, pipe, texts: list[str]) -> int:
        lengths = pipe.tokenizer(texts, truncation=False)["input_ids"]
        return sum(len(ids) > MAX_LENGTH for ids in lengths)

    def encode(self, pipe, texts: list[str]) -> list:
        embeds, _ = pipe.encode_prompt(texts, do_classifier_free_guidance=False, device=pipe.device,
                                       clean_caption=self.options.clean_caption)
        return [e.cpu() for e in embeds]

    def load_stage(self, plan: StagePlan):
        return self._from_pretrained(plan.index, **(NO_T5 if plan.index < 2 else {}), **NO_SAFETY)

    def sample(self, pipe, micro: MicroBatch):
        import torch

        stage = micro.stage
        kwargs: dict[str, Any] = {"num_inference_steps": stage.steps, "guidance_scale": stage.guidance,
                                  "output_type": "pil" if stage.is_last else "pt", "generator": micro.generators}
        if stage.index > 0:
            kwargs["noise_level"] = stage.settings.noise_level
        if micro.low is not None:
            image = micro.low.to(pipe.device)
            # IF stages take [-1, 1]; the SD upscaler's image processor expects [0, 1] tensors.
            kwargs["image"] = image if stage.index < 2 else (image / 2 + 0.5).clamp(0, 1)
        if stage.index < 2:
            kwargs["prompt_embeds"] = torch.stack(micro.embedded()).to(pipe.device)
            kwargs["negative_prompt_embeds"] = torch.stack(micro.negative()).to(pipe.device)
        else:  # the SD x4 upscaler encodes with its own CLIP text encoder
            kwargs["prompt"] = micro.texts
            kwargs["negative_prompt"] = [micro.uncond] * len(micro.texts)
        images = pipe(**kwargs).images
        return images if stage.is_last else images.float().cpu()

    def fingerprint(self) -> dict:
        o = self.options
        return {
            "generator": self.name,
            "stages": [
                {**describe(ref, path, o.revision), **settings.dump()}
                for ref, path, settings in zip(self.refs, self.dirs, self.stages)
            ],
            "variant": o.variant,
            "dtype": o.dtype,
            "device": o.device,
            "clean_caption": o.clean_caption,
        }
