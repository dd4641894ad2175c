"""Tiny fake run directories (a few PNGs, samples.parquet, spec.yaml) and studies built on
them: the human-study code never needs the diffusion pipeline. Storage tests run on both
backends: SQLite files and databases on a private PostgreSQL cluster (tests/human/pg.py)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from .pg import Cluster, find_bindir

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

    from evalkit.store import sha256_file

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
            sha = sha256_file(run_dir / rel)
            rows.append({"prompt_id": pid, "index": index, "text": text, "category": category, "seed": index,
                         "path": rel, "sha256": sha, "generator": json.dumps({"name": run_id}), "seconds": 0.1})
    pd.DataFrame(rows).to_parquet(run_dir / "samples.parquet", index=False)
    (run_dir / "spec.yaml").write_text(yaml.safe_dump({"run_id": run_id, "spec": {"name": run_id}}))
    return run_dir


@pytest.fixture
def runs(tmp_path) -> list[Path]:
    """Three runs; model-c lacks the last prompt."""
    return [make_run(tmp_path / "runs", "model-a"), make_run(tmp_path / "runs", "model-b"),
            make_run(tmp_path / "runs", "model-c", prompts=PROMPTS[:-1])]


def need(ok: bool, why: str) -> None:
    """A missing system dependency: skip here, fail under CI (where .ci/run installs it)."""
    if not ok:
        (pytest.fail if os.environ.get("CI") else pytest.skip)(why)


@pytest.fixture(scope="session")
def pg_cluster():
    """A throwaway PostgreSQL server for the whole session (Debian's `postgresql` package)."""
    bindir = find_bindir()
    need(bindir is not None, "no PostgreSQL server (initdb, pg_ctl): apt-get install -y postgresql")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        need(False, "the psycopg package is not installed: pip install 'psycopg[binary,pool]'")
    cluster = Cluster(bindir).start()
    yield cluster
    from evalkit.human.store_postgres import close_pools

    close_pools()  # before the server goes: idle pools would keep reconnecting
    cluster.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def target(request, tmp_path, monkeypatch):
    """An empty study database location: a SQLite file path, or a fresh PostgreSQL database URL
    (run from tmp_path, where such a study keeps its control images: ./studies/controls)."""
    monkeypatch.chdir(tmp_path)
    if request.param == "sqlite":
        yield str(tmp_path / "study.sqlite")
        return
    url = request.getfixturevalue("pg_cluster").new_database()
    yield url
    from evalkit.human.store_postgres import close_pools

    close_pools(url)  # one pool per test database: do not keep them all open


@pytest.fixture
def study_db(target, runs) -> str:
    """A two-model study: 6 paired tasks, 3 ratings each, controls at rate 0.25."""
    from evalkit.human.study import create_study

    create_study(target, runs[:2], "ab", ratings_per_task=3, control_rate=0.25)
    return target
