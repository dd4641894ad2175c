"""Per-stage settings of a cascade, from the spec's `stages:` list, as typed options.

    stages:
      - {guidance: 7.0, steps: 50, prompt: "A photo of {prompt}"}
      - {guidance: 4.0, steps: 25, aug_level: 0.1, prompt: "An oil painting of {prompt}"}

Entry i configures stage i+1; missing entries and keys (or `null`) fall back to the
generator's defaults and the spec's `generation:` (steps, guidance). `prompt` is a template
in which `{prompt}` is replaced by the suite's prompt (Imagen's per-stage prompt override).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence, TypeVar

from pydantic import Field, field_validator

from evalkit.errors import UserError
from evalkit.options import Options
from evalkit.types import GenerationConfig

PLACEHOLDER = "{prompt}"


class StageSettings(Options):
    """What every cascade stage may override; None: the spec's `generation:` value."""

    guidance: float | None = Field(None, ge=0, allow_inf_nan=False)  # 1 = no guidance
    steps: int | None = Field(None, ge=1)
    prompt: str | None = None  # template containing {prompt}, e.g. "A photo of {prompt}"

    @field_validator("prompt")
    @classmethod
    def _has_placeholder(cls, value: str | None) -> str | None:
        if value is not None and PLACEHOLDER not in value:
            raise ValueError(f"must be a text containing {PLACEHOLDER}, e.g. 'A photo of {PLACEHOLDER}'")
        return value


def stage_list(value: object) -> object:
    """`stages: null` is no entries and a `null` entry is one with no overrides (YAML `- `)."""
    if value is None:
        return []
    if isinstance(value, list):
        return [{} if entry is None else entry for entry in value]
    return value


S = TypeVar("S", bound=StageSettings)


def fill_stages(given: Sequence[S], defaults: Sequence[S]) -> tuple[S, ...]:
    """One complete settings object per stage: the given keys over that stage's defaults."""
    if len(given) > len(defaults):
        raise UserError(
            f"generator.stages: has {len(given)} entries but {len(defaults)} stage(s) run; remove the extra ones"
        )
    out = []
    for i, default in enumerate(defaults):
        update = given[i].model_dump(exclude_none=True) if i < len(given) else {}
        out.append(default.model_copy(update=update))
    return tuple(out)


def refuse_on_first_stage(given: Sequence[StageSettings], key: str, stage: str) -> None:
    """Stage 1 makes images from noise: a setting about its low-resolution input means nothing."""
    if given and getattr(given[0], key):
        raise UserError(f"generator.stages.0.{key}: meaningless for {stage}, which has no low-resolution input; remove it")


def stage_text(template: str | None, text: str) -> str:
    """The prompt a stage sees: the template with {prompt} filled in, or the prompt itself."""
    return text if template is None else template.replace(PLACEHOLDER, text)


@dataclass(frozen=True)
class StagePlan:
    """One stage's settings for one generate() call, resolved against the spec's generation."""

    index: int  # 0-based
    steps: int
    guidance: float
    settings: StageSettings  # the adapter's complete per-stage options
    is_last: bool

    @property
    def name(self) -> str:
        return f"stage_{self.index + 1}"


def plan_stages(stages: Sequence[StageSettings], config: GenerationConfig) -> list[StagePlan]:
    return [
        StagePlan(
            index=i,
            steps=s.steps or config.num_inference_steps,
            guidance=config.guidance_scale if s.guidance is None else float(s.guidance),
            settings=s,
            is_last=i == len(stages) - 1,
        )
        for i, s in enumerate(stages)
    ]
