"""Tiny fake run directories (a few PNGs, samples.parquet, spec.yaml) and studies built on
them: the human-study code never needs the diffusion pipeline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

PROMPTS = [
    ("drawbench-000", "A red colored car.", "Colors"),
    ("drawbench-001", "A black colored banana.", "Colors"),
    ("drawbench-002", "Three cats and one dog sitting on the grass.", "Counting"),
    ("drawbench-003", "Five cars on the street.", "Counting"),
    ("drawbench-004", 'A storefront with "Hello World" written on it.', "Text"),
    ("drawbench-005", "A sign that says 'Diffusion'.", "Text"),
]
COLORS = {"model-a": (200, 60, 60), "model-b": (60, 160, 60), "model-c": (60, 80, 200)}


def make_run(root: Path, run_id: str, prompts=PROMPTS, images: int = 2, size: int = 64) -> Path:
    """A run directory as `evalkit run` leaves it, with flat-coloured stripes for images."""
    import pandas as pd
    import yaml
    from PIL import Image, ImageDraw

    run_dir = root / run_id
    rows = []
    color = COLORS.get(run_id, (120, 120, 120))
    for n, (pid, text, category) in enumerate(prompts):
        for index in range(images):
            img = Image.new("RGB", (size, size), (245, 245, 245))
            draw = ImageDraw.Draw(img)
            for k in range(n + 2):  # a pattern per prompt, so controls can swap in another prompt
                x = (k * 11 + index * 5) % size
                draw.rectangle([x, 8, x + 6, size - 8], fill=color)
            draw.ellipse([size // 3, size // 3, 2 * size // 3, 2 * size // 3], outline=(0, 0, 0), width=2)
            rel = f"images/{pid}/{index}.png"
            (run_dir / rel).parent.mkdir(parents=True, exist_ok=True)
            img.save(run_dir / rel)
            rows.append({"prompt_id": pid, "index": index, "text": text, "category": category, "seed": index,
                         "path": rel, "sha256": "0" * 64, "generator": json.dumps({"name": run_id}), "seconds": 0.1})
    pd.DataFrame(rows).to_parquet(run_dir / "samples.parquet", index=False)
    (run_dir / "spec.yaml").write_text(yaml.safe_dump({"run_id": run_id, "spec": {"name": run_id}}))
    return run_dir


@pytest.fixture
def runs(tmp_path) -> list[Path]:
    """Three runs; model-c lacks the last prompt."""
    return [make_run(tmp_path / "runs", "model-a"), make_run(tmp_path / "runs", "model-b"),
            make_run(tmp_path / "runs", "model-c", prompts=PROMPTS[:-1])]


@pytest.fixture
def study_db(tmp_path, runs) -> Path:
    """A two-model study: 6 paired tasks, 3 ratings each, controls at rate 0.25."""
    from evalkit.human.study import create_study

    path = tmp_path / "study.sqlite"
    create_study(path, runs[:2], "ab", ratings_per_task=3, control_rate=0.25, seed=1)
    return path
