"""The all-families benchmark: both specs load (every option known), the online one names
the published models, and the offline one's metrics run on one set of images (here from an
image folder instead of the tiny SD pipeline, to keep the test short) and report every
family per category with a CI (or KID's std) and N, in metrics.json and in the report."""

import json
from pathlib import Path

import pytest
import yaml

from evalkit.config import load_spec, parse_spec
from evalkit.runner.run import run_benchmark

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
FAMILIES = ["fid", "kid", "clip_score", "cmmd", "fd_dinov2", "clip_fid", "precision", "recall", "density", "coverage",
            "pickscore", "hpsv2", "vqascore"]


def test_the_online_spec_names_the_published_models():
    spec = load_spec(BENCHMARKS / "drawbench-all-metrics.yaml")
    m = spec.metrics
    assert m["fd_dinov2"].options.extractor_options()["model"] == "facebook/dinov2-large"
    clip = m["clip_fid"].options.extractor_options()
    assert (clip["model"], clip["pretrained"], clip["normalize"]) == ("ViT-B-32", "openai", False)
    assert (m["pickscore"].options.model, m["hpsv2"].options.model) == ("yuvalkirstain/PickScore_v1", "ViT-H-14")
    assert m["vqascore"].options.model == "llava-hf/llava-1.5-13b-hf" and spec.suite.name == "drawbench"


@pytest.mark.slow
def test_every_family_per_category_with_ci_and_n(tmp_path):
    from evalkit.builtin.procedural import draw
    from evalkit.suites.smoke import Smoke

    raw = yaml.safe_load((BENCHMARKS / "drawbench-all-metrics-tiny.yaml").read_text())
    spec = parse_spec(raw)  # the file as written
    prompts = Smoke.create().prompts()
    for k, prompt in enumerate(prompts):
        (tmp_path / "images" / prompt.id).mkdir(parents=True)
        for i in range(spec.images_per_prompt):
            draw(1000 + 4 * k + i, 64).save(tmp_path / "images" / prompt.id / f"{i}.png")
    raw["generator"] = {"name": "image_folder", "path": str(tmp_path / "images")}
    summary = run_benchmark(parse_spec(raw), tmp_path / "runs")
    doc = json.loads((summary.run_dir / "metrics.json").read_text())
    values = {key: (name, est) for name, m in doc["metrics"].items() for key, est in m["values"].items()}
    assert sorted(values) == sorted(FAMILIES)
    categories = {p.category for p in prompts}
    for key, (name, overall) in values.items():
        per_cat = doc["metrics"][name]["categories"][key]
        assert set(per_cat) == categories, key
        for cat, e in per_cat.items():
            assert e["n"] == 8 and ("low" in e and "high" in e or "std" in e), (key, cat, e)
        assert overall["n"] == len(prompts) * 4
    html = (summary.run_dir / "report.html").read_text()
    assert "<h2>Every metric per category</h2>" in html
    assert html.count("N=8") >= len(FAMILIES) * len(categories)
