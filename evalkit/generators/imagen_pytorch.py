"""`imagen_pytorch`: models trained with lucidrains' imagen-pytorch (Imagen / ElucidatedImagen).

Loads an ImagenTrainer checkpoint, or an Imagen state dict plus its config, with the
package's own config classes (imagen_pytorch_checkpoint.py) and samples through the
package's own `sample()`, one unet per call (imagen_pytorch_sampling.py), inside the
cascade skeleton every evalkit cascade shares: the text embeddings of every unet's prompt
are computed once per batch, each unet may have its own prompt template (Imagen's style
edit: the base from one prompt, the upscaling from another), guidance, steps and
low-resolution noise level, and each image's noise comes from its own seed.

Text conditioning: the checkpoint's own T5 (its `text_encoder_name`, a hub id or folder)
or any BERT / T5 / CLIP encoder evalkit loads (generators/text_encoders.py), fed to
`sample()` as `text_embeds` / `text_masks`, padding zeroed as imagen-pytorch's T5 does.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field

from evalkit.errors import UserError
from evalkit.fingerprint import file_hashes
from evalkit.generators.cascade.skeleton import CascadeGenerator, CascadeOptions, MicroBatch
from evalkit.generators.cascade.stages import StagePlan, StageSettings, fill_stages, refuse_on_first_stage
from evalkit.generators.imagen_pytorch_checkpoint import (
    WHO, ImagenCheckpoint, build_model, check_layout, read_checkpoint, validated_config,
)
from evalkit.generators.imagen_pytorch_sampling import UnetCall, UnetInputs, sample_unet
from evalkit.generators.model_ref import describe, looks_like_path
from evalkit.generators.text_encoders import ENCODERS, OneEncoderParts, TextEncoderSpec, hidden_size
from evalkit.types import GenerationConfig

MAX_LENGTH = 256  # imagen_pytorch.t5.MAX_LENGTH: the tokens imagen-pytorch's T5 sees
# transformers model_type -> evalkit encoder type
MODEL_TYPES = {"bert": "bert", "t5": "t5", "clip": "clip", "clip_text_model": "clip"}


class ImagenPytorchStage(StageSettings):
    """One unet's overrides (entry i: unet i + 1); None: the generator's or the model's setting."""

    lowres_sample_noise_level: float | None = Field(None, ge=0, lt=1)  # noise on the upsampled input
    dynamic_thresholding: bool | None = None  # false: static clipping of x0 to [-1, 1]
    percentile: float | None = Field(None, gt=0, le=1)  # dynamic thresholding's percentile


class ImagenPytorchOptions(CascadeOptions):
    model: str = Field(min_length=1)  # trainer.save() file, a trainer checkpoint folder, or a state dict (with config)
    config: str | None = None  # `imagen config` JSON: for a state dict, or instead of the checkpoint's own
    ema: bool | None = None  # None: a unet's EMA weights when the trainer updated them; true: required; false: never
    trust_checkpoint: bool = False  # allow full unpickling of a file weights_only loading refuses
    stop_at_unet_number: int | None = Field(None, ge=1)  # e.g. 1 for the base unet's images only
    text_encoder: str | None = None  # None: the checkpoint's T5; else a folder or hub id (BERT / T5 / CLIP)
    text_encoder_type: Literal["bert", "t5", "clip"] | None = None  # None: from the encoder's config
    max_length: int | None = Field(None, ge=1)  # tokens per prompt; default 256 (at most the encoder's positions)
    revision: str | None = None  # of a hub text encoder
    cfg_remove_parallel_component: bool = True  # imagen-pytorch's guidance options, as sample() takes them
    cfg_keep_parallel_frac: float = Field(0.0, ge=0, le=1)
    stages: list[ImagenPytorchStage] = []


def _existing(ref: str, what: str) -> None:
    if looks_like_path(ref) and not Path(ref).expanduser().exists():
        raise UserError(f"{what}: {ref} does not exist")


def encoder_kind(source: str, revision: str | None, who: str) -> tuple[str, int | None]:
    """(evalkit encoder type, position limit) read from the encoder's own config."""
    import transformers

    from evalkit.generators.model_ref import load_failed

    try:
        config = transformers.AutoConfig.from_pretrained(source, **({"revision": revision} if revision else {}))
    except (OSError, ValueError) as err:
        raise load_failed(who, source, err) from None
    kind = MODEL_TYPES.get(config.model_type)
    if kind is None:
        raise UserError(f"{who}: {source} is a '{config.model_type}' model; text encoders are {', '.join(ENCODERS)} "
                        "(set text_encoder_type if it is one of them)")
    text = getattr(config, "text_config", config)  # a full CLIP model's text half
    return kind, getattr(text, "max_position_embeddings", None)


class ImagenPytorchGenerator(OneEncoderParts, CascadeGenerator):
    """lucidrains' imagen-pytorch: ImagenTrainer checkpoint or Imagen/ElucidatedImagen config + weights."""

    Options = ImagenPytorchOptions
    options: ImagenPytorchOptions
    stages: tuple[ImagenPytorchStage, ...]  # one complete settings object per unet that runs

    def __init__(self, options: ImagenPytorchOptions):
        super().__init__(options)
        o = options
        if o.config is not None and not Path(o.config).expanduser().is_file():
            raise UserError(f"generator.config: file not found: {o.config} (an `imagen config` JSON file)")
        self.ckpt: ImagenCheckpoint = read_checkpoint(o.model, o.config, o.ema, o.trust_checkpoint)
        n = self.ckpt.unet_count
        if o.stop_at_unet_number is not None and o.stop_at_unet_number > n:
            raise UserError(f"generator.stop_at_unet_number: must be between 1 and {n}, the model's unets "
                            f"(got {o.stop_at_unet_number})")
        self.run_unets = o.stop_at_unet_number or n
        refuse_on_first_stage(o.stages, "lowres_sample_noise_level", "unet 1")
        self.stages = fill_stages(o.stages, [ImagenPytorchStage() for _ in range(self.run_unets)])
        self._model = None

    @cached_property
    def encoder(self) -> TextEncoderSpec:
        o, who = self.options, f"{WHO} text encoder"
        if o.text_encoder is None:  # the checkpoint's own T5, as its trainer encoded the captions
            source, kind, limit = self.ckpt.text_encoder_name, o.text_encoder_type or "t5", None
            if looks_like_path(source) and not Path(source).expanduser().is_dir():
                raise UserError(f"{WHO}: the checkpoint's text encoder folder {source} (text_encoder_name) does not "
                                "exist; pass text_encoder: the folder or hub id of that T5")
        else:
            source = o.text_encoder
            _existing(source, "generator.text_encoder")
            kind, limit = encoder_kind(source, o.revision, who)
            kind = o.text_encoder_type or kind
        default = MAX_LENGTH if kind == "t5" or limit is None else min(MAX_LENGTH, limit)
        return TextEncoderSpec(kind, source, o.max_length or default, revision=o.revision, who=who)

    @property
    def resolution(self) -> int:
        return self.ckpt.image_sizes[self.run_unets - 1]

    # ---- checks that read configs only (no model is built) -------------------------

    def check_output_size(self, config: GenerationConfig) -> None:
        """The spec's generation settings this model cannot honour: size, negative prompt, guidance."""
        for key, side in (("height", config.height), ("width", config.width)):
            if side is not None and side != self.resolution:
                raise UserError(f"generation.{key}: this model makes {self.resolution}x{self.resolution} images after "
                                f"{self.run_unets} unet(s) (got {side}); remove generation.height/width or change "
                                "stop_at_unet_number")
        if config.negative_prompt is not None:
            raise UserError("generation.negative_prompt: imagen-pytorch guides with its learned null text embedding, "
                            "not a negative prompt; remove it")

    def check_models(self) -> None:
        ckpt = self.ckpt
        check_layout(ckpt, self.run_unets)
        self.imagen_config = validated_config(ckpt)  # imports imagen_pytorch: its Hub lookup fails here, not mid-run
        width = hidden_size(self.encoder.load_config())
        if width != ckpt.text_width:
            raise UserError(f"generator.text_encoder: the {self.encoder.kind} encoder {self.encoder.source} gives "
                            f"{width}-wide embeddings but the model takes {ckpt.text_width}-wide ones (text_embed_dim)")

    def check(self, config: GenerationConfig | None = None) -> None:
        super().check(config)
        if config is None or self.imagen_config.cond_drop_prob > 0:
            return
        from evalkit.generators.cascade.stages import plan_stages

        guided = [p.index + 1 for p in plan_stages(self.stages, config) if p.guidance != 1]
        if guided:
            raise UserError(f"generation.guidance_scale: the model was trained without conditioning dropout "
                            f"(cond_drop_prob 0), so unet {guided[0]} cannot use guidance; set it to 1")

    # ---- the parts the skeleton runs (the encoder's: OneEncoderParts) -----------------

    def encode(self, encoder, texts: list[str]) -> list:
        return encode_zero_padded(encoder, texts)

    def load_stage(self, stage: StagePlan):
        """The whole model (one file holds every unet): built once and kept; sample() moves unets as it needs."""
        if self._model is None:
            self._model = build_model(self.ckpt).to(self.options.device)
        return self._model

    def sample(self, part, micro: MicroBatch):
        import torch

        pairs = micro.embedded()
        settings: ImagenPytorchStage = micro.stage.settings  # type: ignore[assignment]
        o = self.options
        call = UnetCall(
            unet=micro.stage.index + 1, steps=micro.stage.steps, cond_scale=micro.stage.guidance,
            lowres_noise=settings.lowres_sample_noise_level, dynamic_thresholding=settings.dynamic_thresholding,
            percentile=settings.percentile, remove_parallel=o.cfg_remove_parallel_component,
            keep_parallel_frac=o.cfg_keep_parallel_frac, dtype=o.dtype,
        )
        inputs = UnetInputs(torch.stack([e for e, _ in pairs]), torch.stack([m for _, m in pairs]), micro.generators, micro.low)
        return sample_unet(part, call, inputs)

    def fingerprint(self) -> dict:
        import importlib.metadata

        o, ckpt, enc = self.options, self.ckpt, self.encoder
        local = Path(enc.source).expanduser() if looks_like_path(enc.source) else None
        fp = {
            "generator": WHO,
            "model": o.model,
            "checkpoint_sha": file_hashes([ckpt.path])[0],
            "imagen_pytorch": importlib.metadata.version("imagen-pytorch"),
            "ema": list(ckpt.ema),
            "text_encoder": {"type": enc.kind, "max_length": enc.max_length, **describe(enc.source, local, enc.revision)},
            "dtype": o.dtype,
            "device": o.device,
            "run_unets": self.run_unets,
            "cfg": [o.cfg_remove_parallel_component, o.cfg_keep_parallel_frac],
            "stages": [s.dump() for s in self.stages],
        }
        if o.config is not None:
            fp["config_sha"] = file_hashes([Path(o.config).expanduser()])[0]
        return fp


def encode_zero_padded(encoder, texts: list[str]) -> list:
    """(embedding [L, D], mask [L]) per text on the CPU, padding positions zeroed as imagen-pytorch's T5 does."""
    hidden, mask = encoder.encode(texts)
    mask = mask.bool()
    hidden = hidden.float().masked_fill(~mask[..., None], 0.0)
    return [(hidden[i].cpu(), mask[i].cpu()) for i in range(len(texts))]
