"""`deepfloyd_if`: DeepFloyd IF stage I -> stage II -> optional stage III (SD x4 upscaler).

Each stage is a diffusers pipeline by hub id or local folder. Per batch: the T5 embeddings
of every prompt (and per-stage prompt override) are computed once with stage I's encoder
and shared by stages I and II; then the whole batch goes through stage I, then stage II,
then stage III. With `loading: sequential` each part is loaded just before its turn and
freed after it, so peak memory is that of the largest part (T5-XXL, not T5 + 3 UNets).
The safety checker and watermarker are not loaded: they would alter the measured images.
"""

from __future__ import annotations

from typing import Any, Sequence

from evalkit.errors import UserError
from evalkit.generators.model_ref import check_common, describe, load_failed, local_dir, torch_dtype
from evalkit.generators.cascade.residency import PartLoader, check_loading
from evalkit.generators.cascade.stages import parse_stages, stage_text
from evalkit.generators.tensor_images import chunks
from evalkit.generators.text_encoders import warn_truncated
from evalkit.types import GenerationConfig, ImageJob

WHO = "deepfloyd_if"
STAGE_KEYS = ("guidance", "steps", "prompt", "noise_level")
MAX_LENGTH = 77  # IF's encode_prompt always pads/truncates T5 input to 77 tokens
NO_SAFETY = {"safety_checker": None, "feature_extractor": None, "watermarker": None}


class DeepFloydIFGenerator:
    name = "deepfloyd_if"

    def __init__(
        self,
        stage_1: str = "DeepFloyd/IF-I-XL-v1.0",
        stage_2: str = "DeepFloyd/IF-II-L-v1.0",
        stage_3: str | None = "stabilityai/stable-diffusion-x4-upscaler",
        revision: str | None = None,
        variant: str | None = None,
        device: str = "cpu",
        dtype: str = "float32",
        batch_size: int = 4,
        micro_batch_size: int | None = None,
        loading: str = "sequential",
        stages: list | None = None,
        clean_caption: bool = False,
    ):
        check_common(WHO, dtype, batch_size, micro_batch_size)
        self.refs = [r for r in (stage_1, stage_2, stage_3) if r]
        if not stage_1 or not stage_2:
            raise UserError(f"{WHO}: stage_1 and stage_2 are required (stage_3 is optional: set it to null to stop at stage II)")
        names = ("stage I pipeline", "stage II pipeline", "stage III (x4 upscaler) pipeline")
        self.dirs = [local_dir(ref, WHO, "model_index.json", what) for ref, what in zip(self.refs, names)]
        defaults = [{"guidance": None, "steps": None, "prompt": None, "noise_level": level} for level in (None, 250, 100)]
        self.stages = parse_stages(stages, len(self.refs), STAGE_KEYS, defaults, WHO)
        if self.stages[0]["noise_level"] is not None:
            raise UserError(f"{WHO}: stages[0].noise_level is meaningless: stage I has no low-resolution input")
        self.revision, self.variant = revision, variant
        self.device, self.dtype, self.batch_size = device, dtype, batch_size
        self.micro_batch_size = micro_batch_size
        self.loading = check_loading(loading, WHO)
        self.clean_caption = clean_caption
        self.loader = PartLoader(self.loading)
        self.prompts_truncated = 0

    # ---- loading ------------------------------------------------------------------------

    def _from_pretrained(self, cls_name: str, index: int, **components):
        import diffusers

        from evalkit.hf import quiet_hf_logging

        quiet_hf_logging()
        source = str(self.dirs[index]) if self.dirs[index] else self.refs[index]
        kwargs: dict[str, Any] = {"dtype": torch_dtype(self.dtype), "variant": self.variant}
        if self.dirs[index] is None:
            kwargs["revision"] = self.revision
        try:
            pipe = getattr(diffusers, cls_name).from_pretrained(source, **kwargs, **components)
        except (OSError, ValueError) as err:
            raise load_failed(WHO, source, err) from None
        pipe.set_progress_bar_config(disable=True)
        return pipe.to(self.device)

    def _load_encoder(self):
        return self._from_pretrained("IFPipeline", 0, unet=None, **NO_SAFETY)

    def _load_stage(self, index: int):
        if index == 0:
            return self._from_pretrained("IFPipeline", 0, text_encoder=None, tokenizer=None, **NO_SAFETY)
        if index == 1:
            return self._from_pretrained("IFSuperResolutionPipeline", 1, text_encoder=None, tokenizer=None, **NO_SAFETY)
        return self._from_pretrained("StableDiffusionUpscalePipeline", 2, safety_checker=None, feature_extractor=None,
                                     watermarker=None)

    # ---- generation ---------------------------------------------------------------------

    def _encode(self, pipe, texts: list[str], uncond: str) -> dict[str, Any]:
        """T5 embeddings per distinct text, computed once, kept on the CPU between stages."""
        lengths = pipe.tokenizer(texts, truncation=False)["input_ids"]
        truncated = sum(len(ids) > MAX_LENGTH for ids in lengths)
        warn_truncated(truncated, len(texts), f"IF's {MAX_LENGTH} T5 tokens")
        self.prompts_truncated += truncated
        table: dict[str, Any] = {}
        everything = list(dict.fromkeys(texts + [uncond]))
        for part in chunks(everything, self.micro_batch_size):
            embeds, _ = pipe.encode_prompt(part, do_classifier_free_guidance=False, device=pipe.device,
                                           clean_caption=self.clean_caption)
            for text, e in zip(part, embeds):
                table[text] = e.cpu()
        return table

    def generate(self, jobs: Sequence[ImageJob], config: GenerationConfig) -> list:
        import torch

        if config.height or config.width:
            raise UserError(f"{WHO}: the output size is fixed by the stages (stage I 64, II 256, III 1024); remove generation.height/width")
        jobs = list(jobs)
        per_stage = [[stage_text(s["prompt"], job.prompt.text) for job in jobs] for s in self.stages]
        uncond = config.negative_prompt or ""
        t5_texts = list(dict.fromkeys(t for texts in per_stage[:2] for t in texts))
        table = self.loader.run("text_encoder", self._load_encoder, lambda pipe: self._encode(pipe, t5_texts, uncond))
        generators = [torch.Generator().manual_seed(job.seed) for job in jobs]
        images = None
        last = len(self.refs) - 1
        for i, settings in enumerate(self.stages):
            def work(pipe, i=i, settings=settings, low=images):
                return self._run_stage(pipe, i, settings, config, per_stage[i], table, uncond, generators, low, i == last)

            images = self.loader.run(f"stage_{i + 1}", lambda i=i: self._load_stage(i), work)
        return images

    def _run_stage(self, pipe, i, settings, config, texts, table, uncond, generators, low, is_last):
        import torch

        out_type = "pil" if is_last else "pt"
        kwargs = {
            "num_inference_steps": settings["steps"] or config.num_inference_steps,
            "guidance_scale": config.guidance_scale if settings["guidance"] is None else float(settings["guidance"]),
            "output_type": out_type,
        }
        if i > 0:
            kwargs["noise_level"] = settings["noise_level"]
        out: list = []
        for sub in chunks(list(range(len(texts))), self.micro_batch_size):
            part = dict(kwargs, generator=[generators[j] for j in sub])
            if low is not None:
                image = low[sub[0] : sub[-1] + 1].to(pipe.device)
                # IF stages take [-1, 1]; the SD upscaler's image processor expects [0, 1] tensors.
                part["image"] = image if i < 2 else (image / 2 + 0.5).clamp(0, 1)
            if i < 2:
                part["prompt_embeds"] = torch.stack([table[texts[j]] for j in sub]).to(pipe.device)
                part["negative_prompt_embeds"] = torch.stack([table[uncond]] * len(sub)).to(pipe.device)
            else:  # the SD x4 upscaler encodes with its own CLIP text encoder
                part["prompt"] = [texts[j] for j in sub]
                part["negative_prompt"] = [uncond] * len(sub)
            result = pipe(**part).images
            out.extend(result) if is_last else out.append(result.float().cpu())
        return out if is_last else torch.cat(out)

    def fingerprint(self) -> dict:
        return {
            "generator": self.name,
            "stages": [
                {**describe(ref, path, self.revision), **settings}
                for ref, path, settings in zip(self.refs, self.dirs, self.stages)
            ],
            "variant": self.variant,
            "dtype": self.dtype,
            "device": self.device,
            "clean_caption": self.clean_caption,
        }
