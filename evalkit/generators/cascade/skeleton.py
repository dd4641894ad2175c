"""The stage skeleton shared by `imagen_cascade` and `deepfloyd_if`.

Per batch: the text embeddings of every stage's prompts (per-stage templates filled in)
and of the negative/empty prompt are computed once, then the whole batch goes through
stage 1, then stage 2, ..., each stage in micro batches. Parts are loaded through a
PartLoader: `sequential` frees each one after its turn, `resident` keeps them.
An adapter supplies only what differs: how to load and call its encoder and stages.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal, Mapping, Sequence

from pydantic import Field, field_validator

from evalkit.generators.base import Generator, TorchOptions
from evalkit.generators.cascade.residency import PartLoader
from evalkit.generators.cascade.stages import StagePlan, StageSettings, plan_stages, stage_list, stage_text
from evalkit.generators.tensor_images import chunks, to_pil
from evalkit.generators.text_encoders import warn_truncated
from evalkit.types import GenerationConfig, ImageJob


class CascadeOptions(TorchOptions):
    # Images per encoder/UNet call; the whole batch_size goes through each stage per load.
    micro_batch_size: int | None = Field(None, ge=1)
    # sequential: peak memory = the largest part; resident: keep every part loaded.
    loading: Literal["sequential", "resident"] = "sequential"
    stages: list[StageSettings] = []  # an adapter narrows the type to its own stage settings


    @field_validator("stages", mode="before")
    @classmethod
    def _null_stages(cls, value: object) -> object:
        return stage_list(value)


@dataclass(frozen=True)
class Batch:
    """What every stage of one generate() call shares."""

    texts: tuple[tuple[str, ...], ...]  # per stage: one prompt text per job
    uncond: str  # the negative prompt, or ""
    embeddings: Mapping[str, Any]  # text -> its embedding (on the CPU), for the shared encoder's stages
    generators: tuple  # one torch.Generator per job, seeded by the job alone


@dataclass(frozen=True)
class MicroBatch:
    """The slice of a batch one stage call gets."""

    stage: StagePlan
    texts: list[str]
    uncond: str
    embeddings: Mapping[str, Any]
    generators: list
    low: Any  # the previous stage's images for these jobs (None for stage 1)

    def embedded(self) -> list:
        return [self.embeddings[t] for t in self.texts]

    def negative(self) -> list:
        return [self.embeddings[self.uncond]] * len(self.texts)


class CascadeGenerator(Generator):
    """Encoder once per batch, then stage after stage; subclasses load and call the parts."""

    Options = CascadeOptions
    stages: tuple[StageSettings, ...]  # complete per-stage settings, one per stage that runs
    shared_encoder_stages: int | None = None  # leading stages that use the shared embeddings (None: all)

    def __init__(self, options: CascadeOptions):
        super().__init__(options)
        self.loader = PartLoader(options.loading)
        self.prompts_truncated = 0  # prompts cut to the encoder's length so far
        self._checked = False

    # ---- what an adapter provides ---------------------------------------------------------

    @property
    @abstractmethod
    def truncation_limit(self) -> str:
        """Whose length limit cut a prompt, for the warning: "IF's 77 T5 tokens"."""

    @abstractmethod
    def check_output_size(self, config: GenerationConfig) -> None:
        """Refuse a generation.height/width the cascade cannot make."""

    @abstractmethod
    def check_models(self) -> None:
        """Everything the model configs can tell without loading weights."""

    @abstractmethod
    def load_encoder(self) -> Any: ...

    @abstractmethod
    def count_truncated(self, encoder: Any, texts: list[str]) -> int: ...

    @abstractmethod
    def encode(self, encoder: Any, texts: list[str]) -> list:
        """One embedding per text, on the CPU."""

    @abstractmethod
    def load_stage(self, stage: StagePlan) -> Any: ...

    @abstractmethod
    def sample(self, part: Any, micro: MicroBatch) -> Any:
        """Images of one micro batch: a CPU tensor in [-1, 1], or PIL images from the last stage."""

    # ---- the skeleton ---------------------------------------------------------------------

    def check(self, config: GenerationConfig | None = None) -> None:
        """Device, model configs and (given the spec's generation) the output size; no weights load."""
        super().check()
        if config is not None:
            self.check_output_size(config)
        self.check_models()
        self._checked = True

    def generate(self, jobs: Sequence[ImageJob], config: GenerationConfig) -> list:
        self.check_output_size(config)
        if not self._checked:  # the runner calls check() first; direct callers get it here
            self.check()
        batch = self._batch(list(jobs), config)
        images = None
        for stage in plan_stages(self.stages, config):
            work = partial(self._run_stage, stage=stage, batch=batch, low=images)
            images = self.loader.run(stage.name, partial(self.load_stage, stage), work)
        return images if isinstance(images, list) else to_pil(images)

    def _batch(self, jobs: list[ImageJob], config: GenerationConfig) -> Batch:
        import torch

        texts = tuple(tuple(stage_text(s.prompt, job.prompt.text) for job in jobs) for s in self.stages)
        uncond = config.negative_prompt or ""
        shared = list(dict.fromkeys(t for stage in texts[: self.shared_encoder_stages] for t in stage))
        embeddings = self.loader.run("text_encoder", self.load_encoder, partial(self._embed, texts=shared, uncond=uncond))
        generators = tuple(torch.Generator().manual_seed(job.seed) for job in jobs)
        return Batch(texts, uncond, embeddings, generators)

    def _embed(self, encoder: Any, texts: list[str], uncond: str) -> dict[str, Any]:
        """Embeddings per distinct text (and the unconditional one), computed once per batch."""
        truncated = self.count_truncated(encoder, texts)
        self.prompts_truncated += truncated
        warn_truncated(truncated, len(texts), self.truncation_limit)
        table: dict[str, Any] = {}
        for part in chunks(list(dict.fromkeys(texts + [uncond])), self.options.micro_batch_size):
            table.update(zip(part, self.encode(encoder, part)))
        return table

    def _run_stage(self, part: Any, stage: StagePlan, batch: Batch, low: Any) -> Any:
        import torch

        texts = batch.texts[stage.index]
        pieces = []
        for sub in chunks(list(range(len(texts))), self.options.micro_batch_size):
            micro = MicroBatch(
                stage=stage,
                texts=[texts[j] for j in sub],
                uncond=batch.uncond,
                embeddings=batch.embeddings,
                generators=[batch.generators[j] for j in sub],
                low=None if low is None else low[sub[0] : sub[-1] + 1],
            )
            pieces.append(self.sample(part, micro))
        if isinstance(pieces[0], list):
            return [image for piece in pieces for image in piece]
        return torch.cat(pieces)
