"""The FID-30K commands of docs/datasets.md: the reference-linking script (on the coco30k
file in ../shared/data), the command lines (parsed by evalkit's own parser) and the spec."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

from evalkit.cli import build_parser
from evalkit.config import load_spec

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "datasets.md").read_text(encoding="utf-8")
SECTION = DOC[DOC.index("## Imagen's zero-shot FID-30K on COCO"):]


def test_the_linking_script_makes_one_link_per_caption(shared_data, tmp_path):
    script = re.search(r"<<'EOF'\n(.*?)\nEOF", SECTION, re.S).group(1)
    script = script.replace("/data/coco/val2014-30k", str(tmp_path / "val2014-30k")).replace("/data/coco/val2014", str(tmp_path / "val2014"))
    env = {"EVALKIT_DATA_DIR": str(shared_data), "PATH": "/usr/bin:/bin"}
    for _ in range(2):  # re-running it is harmless
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
        assert out.returncode == 0, out.stderr[-2000:]
        assert out.stdout.strip() == "30000 reference images"
    from evalkit.suites.coco import load

    first = load(path=shared_data / "coco" / "coco_30k.csv")[0].meta["image_id"]
    link = tmp_path / "val2014-30k" / f"COCO_val2014_{first:012d}.jpg"
    assert link.is_symlink() and link.readlink() == tmp_path / "val2014" / link.name


def test_the_commands_parse_and_the_spec_loads():
    joined = SECTION.replace("\\\n", " ")
    launched = [line.split("-m evalkit", 1)[1] for line in joined.splitlines() if line.startswith("accelerate launch")]
    parser = build_parser()
    stats, run = (parser.parse_args(shlex.split(command)) for command in launched)
    assert (stats.images, stats.output, stats.resize, stats.device) == ("/data/coco/val2014-30k", "coco30k-val2014-clean.npz",
                                                                       "clean", "cuda")
    assert run.spec == "benchmarks/imagen-pytorch-coco-fid30k.yaml"
    spec = load_spec(ROOT / run.spec)
    assert spec.suite.name == "coco30k" and spec.generator.name == "imagen_pytorch"
    assert spec.reference.stats == stats.output and spec.reference.resize == stats.resize
