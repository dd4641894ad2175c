"""`imagen_cascade`: an Imagen-style cascade (text encoder -> 64x64 base -> super-resolution stages).

Built from diffusers' UNet2DConditionModel and schedulers and a transformers text encoder
(BERT, T5 or CLIP), read from a cascade folder (see cascade_checkpoint.py). Per batch:
encode every stage's prompts once, then run the whole batch through stage 1, then stage 2,
... With `loading: sequential` each part is loaded just before its turn and freed after
it, so peak memory is that of the largest part.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any, Sequence

from evalkit.errors import UserError
from evalkit.fingerprint import dir_fingerprint
from evalkit.generators.cascade.checkpoint import WHO, Cascade, check_unet, read_cascade
from evalkit.generators.cascade.guidance import THRESHOLDING
from evalkit.generators.cascade.sampler import StageRun, check_scheduler, make_scheduler, sample_stage
from evalkit.generators.model_ref import check_common, describe, load_failed, looks_like_path, torch_dtype
from evalkit.generators.cascade.residency import PartLoader, check_loading
from evalkit.generators.cascade.stages import parse_stages, stage_text
from evalkit.generators.tensor_images import chunks, to_pil
from evalkit.generators.text_encoders import TextEncoderSpec, hidden_size, warn_truncated
from evalkit import builtin
from evalkit.types import GenerationConfig, ImageJob

STAGE_KEYS = ("guidance", "steps", "prompt", "aug_level", "thresholding", "percentile")


class ImagenCascadeGenerator:
    name = "imagen_cascade"

    def __init__(
        self,
        model: str,
        device: str = "cpu",
        dtype: str = "float32",
        batch_size: int = 4,
        micro_batch_size: int | None = None,
        loading: str = "sequential",
        scheduler: str | None = None,
        thresholding: str = "dynamic",
        percentile: float = 0.995,
        aug_level: float = 0.0,
        stages: list | None = None,
        run_stages: int | None = None,
        text_encoder: str | None = None,
        max_length: int | None = None,
        revision: str | None = None,
    ):
        check_common(WHO, dtype, batch_size, micro_batch_size)
        if thresholding not in THRESHOLDING:
            raise UserError(f"{WHO}: thresholding must be one of {', '.join(THRESHOLDING)}, got {thresholding!r}")
        self.model_ref = model
        root = builtin.resolve(model) if builtin.is_builtin(model) else Path(model).expanduser()
        self.cascade: Cascade = read_cascade(root)
        n = len(self.cascade.stages)
        if run_stages is not None and not 1 <= run_stages <= n:
            raise UserError(f"{WHO}: run_stages must be between 1 and {n} (the cascade's stages), got {run_stages}")
        self.run_stages = run_stages or n
        defaults = [
            {"guidance": None, "steps": None, "prompt": None, "aug_level": aug_level if i else 0.0,
             "thresholding": thresholding, "percentile": percentile}
            for i in range(self.run_stages)
        ]
        self.stages = parse_stages(stages, self.run_stages, STAGE_KEYS, defaults, WHO)
        if self.stages[0]["aug_level"]:
            raise UserError(f"{WHO}: stages[0].aug_level is meaningless: stage 1 has no low-resolution input")
        self.encoder = TextEncoderSpec(
            self.cascade.encoder_kind,
            text_encoder or self.cascade.encoder_source,
            max_length or self.cascade.max_length,
            revision=revision,
            who=WHO,
        )
        if text_encoder and looks_like_path(text_encoder) and not Path(text_encoder).expanduser().is_dir():
            raise UserError(f"{WHO}: text_encoder folder {text_encoder} does not exist")
        self.device, self.dtype, self.batch_size = device, dtype, batch_size
        self.micro_batch_size = micro_batch_size
        self.loading = check_loading(loading, WHO)
        self.scheduler = scheduler
        self.loader = PartLoader(self.loading)
        self.prompts_truncated = 0  # prompts cut to the encoder's max_length so far
        self._checked = False

    # ---- checks that read configs only (no weights) ----------------------------------

    def _check(self) -> None:
        from diffusers import UNet2DConditionModel

        width = hidden_size(self.encoder.load_config())
        for stage, settings in zip(self.cascade.stages, self.stages):
            check_unet(stage, dict(UNet2DConditionModel.load_config(stage.path / "unet")), self.encoder.kind, width)
            scheduler = make_scheduler(self._scheduler_config(stage), self.scheduler)
            check_scheduler(scheduler, self._stage_run(settings, GenerationConfig()))
        self._checked = True

    @staticmethod
    def _scheduler_config(stage) -> dict:
        from diffusers import DDPMScheduler

        return dict(DDPMScheduler.load_config(stage.path / "scheduler"))

    def _stage_run(self, settings: dict[str, Any], config: GenerationConfig) -> StageRun:
        return StageRun(
            steps=settings["steps"] or config.num_inference_steps,
            guidance=config.guidance_scale if settings["guidance"] is None else float(settings["guidance"]),
            thresholding=settings["thresholding"],
            percentile=float(settings["percentile"]),
            aug_level=float(settings["aug_level"] or 0.0),
        )

    @property
    def resolution(self) -> int:
        return self.cascade.stages[self.run_stages - 1].resolution

    # ---- loading ------------------------------------------------------------------------

    def _load_encoder(self):
        return self.encoder.load(self.device, torch_dtype(self.dtype))

    def _load_stage(self, stage):
        from diffusers import DDPMScheduler, UNet2DConditionModel

        from evalkit.hf import quiet_hf_logging

        quiet_hf_logging()
        try:
            unet = UNet2DConditionModel.from_pretrained(stage.path / "unet", dtype=torch_dtype(self.dtype))
        except (OSError, ValueError) as err:
            raise load_failed(WHO, str(stage.path / "unet"), err) from None
        config = self._scheduler_config(stage)
        return SimpleNamespace(
            unet=unet.to(self.device).eval(),
            scheduler=make_scheduler(config, self.scheduler),
            noising=DDPMScheduler.from_config(config),  # the training schedule, for augmentation noise
        )

    # ---- generation ---------------------------------------------------------------------

    def _encode(self, encoder, texts: list[str]) -> dict[str, tuple]:
        out: dict[str, tuple] = {}
        for part in chunks(texts, self.micro_batch_size):
            hidden, mask = encoder.encode(part)
            for i, text in enumerate(part):
                out[text] = (hidden[i].cpu(), mask[i].cpu())
        return out

    def generate(self, jobs: Sequence[ImageJob], config: GenerationConfig) -> list:
        import torch

        for side in (config.height, config.width):
            if side is not None and side != self.resolution:
                raise UserError(
                    f"{WHO}: this cascade makes {self.resolution}x{self.resolution} images after "
                    f"{self.run_stages} stage(s); remove generation.height/width or change run_stages"
                )
        if not self._checked:
            self._check()
        jobs = list(jobs)
        per_stage = [[stage_text(s["prompt"], job.prompt.text) for job in jobs] for s in self.stages]
        uncond = config.negative_prompt or ""
        prompts = list(dict.fromkeys(t for texts in per_stage for t in texts))

        def encode(encoder):
            truncated = encoder.count_truncated(prompts)
            self.prompts_truncated += truncated
            what = f"the {self.encoder.kind} encoder's max_length of {self.encoder.max_length} tokens"
            warn_truncated(truncated, len(prompts), what)
            return self._encode(encoder, list(dict.fromkeys(prompts + [uncond])))

        table = self.loader.run("text_encoder", self._load_encoder, encode)
        generators = [torch.Generator().manual_seed(job.seed) for job in jobs]
        images = None
        for i, (stage, settings) in enumerate(zip(self.cascade.stages, self.stages)):
            run = self._stage_run(settings, config)

            def work(part, texts=per_stage[i], low=images, run=run, stage=stage):
                return self._run_stage(part, stage.resolution, run, texts, table, uncond, generators, low)

            images = self.loader.run(stage.name, lambda stage=stage: self._load_stage(stage), work)
        return to_pil(images)

    def _run_stage(self, part, size, run, texts, table, uncond, generators, low):
        import torch

        out = []
        idx = list(range(len(texts)))
        for sub in chunks(idx, self.micro_batch_size):
            text = (torch.stack([table[texts[j]][0] for j in sub]), torch.stack([table[texts[j]][1] for j in sub]))
            null = (torch.stack([table[uncond][0]] * len(sub)), torch.stack([table[uncond][1]] * len(sub)))
            low_sub = None if low is None else low[sub[0] : sub[-1] + 1]
            out.append(sample_stage(part.unet, part.scheduler, text, null, [generators[j] for j in sub],
                                    size, run, low=low_sub, noising=part.noising).cpu())
        return torch.cat(out)

    def fingerprint(self) -> dict:
        external = self.encoder.source != self.cascade.encoder_source or not self.cascade.encoder_is_local
        fp = {
            "generator": self.name,
            "model": self.model_ref,
            "model_dir_sha": dir_fingerprint(self.cascade.root),
            "text_encoder": {"type": self.encoder.kind, "max_length": self.encoder.max_length},
            "dtype": self.dtype,
            "device": self.device,
            "scheduler": self.scheduler,
            "run_stages": self.run_stages,
            "stages": self.stages,
        }
        if external:  # not inside the cascade folder: fingerprint it on its own
            path = Path(self.encoder.source).expanduser()
            fp["text_encoder"].update(describe(self.encoder.source, path if path.is_dir() else None, self.encoder.revision))
        return fp
