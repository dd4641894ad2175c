"""Per-stage sampler settings of a cascade, from the spec's `stages:` list.

    stages:
      - {guidance: 7.0, steps: 50, prompt: "A photo of {prompt}"}
      - {guidance: 4.0, steps: 25, aug_level: 0.1, prompt: "An oil painting of {prompt}"}

Entry i configures stage i+1; missing entries and keys fall back to the generator's
defaults and the spec's `generation:` (steps, guidance). `prompt` is a template in which
`{prompt}` is replaced by the suite's prompt (Imagen's per-stage prompt override).
"""

from __future__ import annotations

from typing import Any, Callable

from evalkit.errors import UserError
from evalkit.generators.cascade.guidance import THRESHOLDING

PLACEHOLDER = "{prompt}"


def _number(lo: float, hi: float | None, integer: bool = False, hi_open: bool = False) -> Callable[[Any], bool]:
    def ok(v: Any) -> bool:
        if isinstance(v, bool) or not isinstance(v, int if integer else (int, float)):
            return False
        return v >= lo and (hi is None or (v < hi if hi_open else v <= hi))
    return ok


# key -> (check, what a valid value looks like)
CHECKS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "guidance": (_number(0.0, None), "a number >= 0 (1 = no guidance)"),
    "steps": (_number(1, None, integer=True), "an integer >= 1"),
    "prompt": (lambda v: isinstance(v, str) and PLACEHOLDER in v, f"a text containing {PLACEHOLDER}, e.g. 'A photo of {PLACEHOLDER}'"),
    "aug_level": (_number(0.0, 1.0, hi_open=True), "a number in [0, 1)"),
    "noise_level": (_number(0, 1000, integer=True, hi_open=True), "an integer timestep in [0, 1000)"),
    "thresholding": (lambda v: v in THRESHOLDING, " | ".join(THRESHOLDING)),
    "percentile": (_number(0.0, 1.0), "a number in (0, 1], e.g. 0.995"),
}


def parse_stages(
    stages: list | None, n_stages: int, keys: tuple[str, ...], defaults: list[dict[str, Any]], who: str
) -> list[dict[str, Any]]:
    """Validate `stages` and return one complete settings dict per stage (defaults filled in)."""
    stages = [] if stages is None else stages
    if not isinstance(stages, list):
        raise UserError(f"{who}: `stages` must be a list with one mapping per stage, got {type(stages).__name__}")
    if len(stages) > n_stages:
        raise UserError(f"{who}: `stages` has {len(stages)} entries but the cascade has {n_stages} stage(s); remove the extra ones")
    out = []
    for i in range(n_stages):
        given = stages[i] if i < len(stages) else {}
        given = {} if given is None else given
        if not isinstance(given, dict):
            raise UserError(f"{who}: stages[{i}] must be a mapping like {{guidance: 4.0, steps: 25}}, got {given!r}")
        merged = dict(defaults[i])
        for key, value in given.items():
            if key not in keys:
                raise UserError(f"{who}: stages[{i}] has no setting '{key}'; settings are: {', '.join(keys)}")
            check, expected = CHECKS[key]
            if value is not None and not check(value):
                raise UserError(f"{who}: stages[{i}].{key} must be {expected}, got {value!r}")
            merged[key] = value
        out.append(merged)
    return out


def stage_text(template: str | None, text: str) -> str:
    """The prompt a stage sees: the template with {prompt} filled in, or the prompt itself."""
    return text if template is None else template.replace(PLACEHOLDER, text)
