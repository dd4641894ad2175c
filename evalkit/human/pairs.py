"""Build the regular tasks of a study: every pair of runs over the prompts both have, one
task per (pair, prompt). A task stores the pair in `--runs` order (run_a first); which run
is shown on the left is drawn per rater when the task is shown (queue.py), never here."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from evalkit.errors import UserError
from evalkit.human.runs import RunImages

MAX_IMAGES_PER_SIDE = 8  # Imagen's DrawBench study showed up to 8 images per model


@dataclass(frozen=True)
class TaskSpec:
    """A task before it is stored."""

    prompt_id: str
    caption: str
    category: str
    run_a: str
    run_b: str
    images_a: tuple[str, ...]
    images_b: tuple[str, ...]
    kind: str = "regular"               # regular | control | practice
    control_answer: dict | None = None  # {"question": "quality"|"alignment", "kind": ...}: set a is right


def shared_prompts(a: RunImages, b: RunImages) -> list[str]:
    """Prompt ids both runs have, in a stable order."""
    return sorted(set(a.prompts) & set(b.prompts))


def check_images_per_side(images_per_side: int) -> None:
    if not 1 <= images_per_side <= MAX_IMAGES_PER_SIDE:
        raise UserError(f"--images-per-side must be 1..{MAX_IMAGES_PER_SIDE}, got {images_per_side}")


def build_pair_tasks(runs: list[RunImages], images_per_side: int) -> list[TaskSpec]:
    """One task per run pair and shared prompt, with the same number of images per side."""
    check_images_per_side(images_per_side)
    tasks = []
    for a, b in itertools.combinations(runs, 2):
        prompts = shared_prompts(a, b)
        if not prompts:
            raise UserError(f"runs {a.run_id} and {b.run_id} share no prompt ids; compare runs of the same suite")
        for pid in prompts:
            pa, pb = a.prompts[pid], b.prompts[pid]  # the caption of the first run named, if the texts differ
            n = min(images_per_side, len(pa.images), len(pb.images))  # equal sets: a count must not tell sides apart
            tasks.append(TaskSpec(pid, pa.caption, pa.category, a.run_id, b.run_id, pa.images[:n], pb.images[:n]))
    return tasks
