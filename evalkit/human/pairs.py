"""Build the regular tasks of a study: every pair of runs over the prompts both have,
one task per (pair, prompt), with the screen sides drawn at random and recorded."""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass

from evalkit.errors import UserError
from evalkit.human.runs import RunImages

MAX_IMAGES_PER_SIDE = 8  # Imagen's DrawBench study showed up to 8 images per model


@dataclass(frozen=True)
class TaskSpec:
    """A task before it is stored. Set A is always the left side on screen, set B the right."""

    prompt_id: str
    caption: str
    category: str
    left_run: str
    right_run: str
    left_images: tuple[str, ...]
    right_images: tuple[str, ...]
    is_control: bool = False
    control_answer: dict | None = None  # {"question": "quality"|"alignment", "answer": "A"|"B", "kind": ...}


def shared_prompts(a: RunImages, b: RunImages) -> list[str]:
    """Prompt ids both runs have, in a stable order."""
    return sorted(set(a.prompts) & set(b.prompts))


def build_pair_tasks(runs: list[RunImages], images_per_side: int, rng: random.Random) -> list[TaskSpec]:
    """One task per run pair and shared prompt; left/right is a coin flip per task."""
    if not 1 <= images_per_side <= MAX_IMAGES_PER_SIDE:
        raise UserError(f"--images-per-side must be 1..{MAX_IMAGES_PER_SIDE}, got {images_per_side}")
    tasks = []
    for a, b in itertools.combinations(runs, 2):
        prompts = shared_prompts(a, b)
        if not prompts:
            raise UserError(f"runs {a.run_id} and {b.run_id} share no prompt ids; compare runs of the same suite")
        for pid in prompts:
            pa = a.prompts[pid]  # the caption of the first run named, if the texts differ
            left, right = (a, b) if rng.random() < 0.5 else (b, a)
            tasks.append(TaskSpec(
                prompt_id=pid,
                caption=pa.caption,
                category=pa.category,
                left_run=left.run_id,
                right_run=right.run_id,
                left_images=left.prompts[pid].images[:images_per_side],
                right_images=right.prompts[pid].images[:images_per_side],
            ))
    return tasks
