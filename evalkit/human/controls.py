"""Control tasks: pairs with a known right answer, interleaved in every rater's queue to
measure how carefully they rate (docs/human.md, "Control tasks").

Two kinds, alternating, both built from one run's images for one prompt (set a holds the
right answer; the side it is shown on is drawn per rater, as for every task):
- quality: one side shows the images, the other a degraded copy (8x downscaled, blown up
  again with nearest-neighbour, then blurred), written under the study's controls folder;
  the known answer is the intact side for "higher quality".
- alignment: one side shows the prompt's images, the other the same run's images for an
  unrelated prompt (another category where possible); the known answer is the matching side
  for "better represents the caption".
Only the question a control is built for is scored; the other answer is ignored.
"""

from __future__ import annotations

import math
import random
from pathlib import Path

from evalkit.errors import UserError
from evalkit.human.pairs import TaskSpec
from evalkit.human.runs import RunImages


def control_count(n_regular: int, rate: float) -> int:
    """Controls needed so a rater who does every regular task sees them at `rate`."""
    if not 0 <= rate <= 0.5:
        raise UserError(f"--control-rate must be between 0 and 0.5, got {rate}")
    return 0 if rate == 0 else max(1, math.ceil(n_regular * rate / (1 - rate)))


def degrade(src: str | Path, dst: Path) -> str:
    """Write an obviously worse copy of an image: blocky and blurred, same size."""
    from PIL import Image, ImageFilter

    from evalkit.images import open_rgb
    from evalkit.store import atomic_write_bytes, png_bytes

    img = open_rgb(Path(src))
    w, h = img.size
    small = img.resize((max(4, w // 8), max(4, h // 8)), Image.Resampling.BOX)
    worse = small.resize((w, h), Image.Resampling.NEAREST).filter(ImageFilter.GaussianBlur(max(1.0, w / 48)))
    atomic_write_bytes(dst, png_bytes(worse))
    return str(dst.resolve())


def _other_prompt(run: RunImages, prompt_id: str, rng: random.Random) -> str | None:
    """An unrelated prompt of the same run: another category if there is one."""
    category = run.prompts[prompt_id].category
    others = sorted(p for p in run.prompts if p != prompt_id)
    unrelated = [p for p in others if run.prompts[p].category != category]
    pool = unrelated or others
    return rng.choice(pool) if pool else None


def build_control_tasks(runs: list[RunImages], count: int, images_per_side: int, controls_dir: Path,
                        rng: random.Random, kind: str = "control") -> list[TaskSpec]:
    """`count` control tasks over distinct (run, prompt) pairs where possible, kinds alternating
    (a practice task is the first kind: degraded images). The intact or matching images are
    set a; which side they are shown on is drawn per rater when shown, like any task's."""
    pool = [(run, pid) for run in runs for pid in sorted(run.prompts)]
    rng.shuffle(pool)
    tasks = []
    for i in range(count):
        run, pid = pool[i % len(pool)]
        prompt = run.prompts[pid]
        other = _other_prompt(run, pid, rng) if i % 2 == 1 else None
        n = min(images_per_side, len(prompt.images), len(run.prompts[other].images) if other else images_per_side)
        good = prompt.images[:n]
        if other is not None:
            what, question = f"other-prompt:{other}", "alignment"
            bad = run.prompts[other].images[:n]
        else:
            what, question = "degraded", "quality"
            bad = tuple(degrade(src, controls_dir / f"{kind[0]}{i:04d}" / f"{j}.png") for j, src in enumerate(good))
        tasks.append(TaskSpec(pid, prompt.caption, prompt.category, run.run_id, run.run_id, tuple(good), tuple(bad),
                              kind=kind, control_answer={"question": question, "kind": what}))
    return tasks
