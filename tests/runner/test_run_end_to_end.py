"""The whole pipeline on the tiny SD pipeline: layout, resume, crash recovery, report."""

import json
import shutil

import pandas as pd
import pytest
import yaml

from evalkit.config import parse_spec
from evalkit.builtin import resolve as resolve_builtin
from evalkit.runner.run import run_benchmark
from evalkit.store import TMP_PREFIX, sha256_file

PROMPTS = "id,text,category\na,A red cube.,Colors\nb,Two dogs.,Counting\nc,A sign that reads 'hi'.,Text\n"


@pytest.fixture(scope="module")
def spec(tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e")
    (root / "prompts.csv").write_text(PROMPTS)
    return parse_spec({
        "name": "e2e",
        "seed": 3,
        "images_per_prompt": 2,
        "suite": {"name": "file", "path": str(root / "prompts.csv")},
        "generator": {"name": "diffusers_pipeline", "model": "builtin:tiny-sd", "batch_size": 4},
        "generation": {"num_inference_steps": 2, "guidance_scale": 3.0},
        "reference": {"images": "builtin:procedural", "resize": "clean"},
        "metrics": {"fid": {}, "kid": {"subset_size": 4, "subsets": 10}, "clip_score": {"model": "builtin:tiny-clip"}},
    })


@pytest.fixture(scope="module")
def first_run(spec, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    return out, run_benchmark(spec, out)


def values(summary) -> dict:
    """{value key: number} of a run's headline values."""
    return {key: e.value for _, key, e in summary.results.estimates()}


def test_run_directory_layout(first_run, spec):
    out, summary = first_run
    run_dir = out / summary.results.run_id
    assert summary.run_dir == run_dir and summary.images_made == 6 == summary.images_total
    assert run_dir.name.startswith("e2e-")
    for name in ("spec.yaml", "samples.parquet", "metrics.json", "per_sample.parquet", "report.html", "report.md"):
        assert (run_dir / name).is_file(), name
    assert sorted(p.relative_to(run_dir).as_posix() for p in (run_dir / "images").rglob("*.png")) == [
        f"images/{p}/{i}.png" for p in "abc" for i in (0, 1)
    ]
    assert not list(run_dir.rglob(f"{TMP_PREFIX}*"))


def test_spec_yaml_records_versions(first_run, spec):
    out, summary = first_run
    resolved = yaml.safe_load((summary.run_dir / "spec.yaml").read_text())
    assert resolved["run_id"] == summary.run_dir.name
    assert resolved["spec"]["generator"]["model"] == "builtin:tiny-sd"
    assert resolved["spec"]["generator"]["batch_size"] == 4 and resolved["spec"]["generator"]["dtype"] == "float32"
    for lib in ("python", "evalkit", "torch", "diffusers", "transformers", "open_clip_torch"):
        assert resolved["versions"][lib]


def test_samples_table(first_run, spec):
    out, summary = first_run
    run_dir = summary.run_dir
    samples = pd.read_parquet(run_dir / "samples.parquet")
    assert list(samples["prompt_id"]) == ["a", "a", "b", "b", "c", "c"]
    assert list(samples["category"]) == ["Colors", "Colors", "Counting", "Counting", "Text", "Text"]
    for row in samples.itertuples():
        assert sha256_file(run_dir / row.path) == row.sha256
        assert json.loads(row.generator)["model_dir_sha"]
    assert samples["seconds"].gt(0).all()


def test_metrics_json(first_run, spec):
    out, summary = first_run
    doc = json.loads((summary.run_dir / "metrics.json").read_text())
    assert doc["schema_version"] == 2 and doc["n_images"] == 6 and doc["n_prompts"] == 3
    m = doc["metrics"]
    assert {k: v["higher_is_better"] for k, v in m.items()} == {"fid": False, "kid": False, "clip_score": True}
    fid, kid, clip = m["fid"]["values"]["fid"], m["kid"]["values"]["kid"], m["clip_score"]["values"]["clip_score"]
    assert fid["value"] > 0 and fid["low"] <= fid["value"] <= fid["high"] and fid["n"] == 6
    assert kid["std"] >= 0 and clip["low"] <= clip["value"] <= clip["high"]
    assert set(m["clip_score"]["categories"]["clip_score"]) == {"Colors", "Counting", "Text"}
    assert m["fid"]["provenance"]["resize"] == "clean"
    assert m["fid"]["provenance"]["weights_sha256"].startswith("7ff4a85c")
    assert "RANDOM" in m["clip_score"]["provenance"]["clip_weights"]
    assert any("rank-deficient" in w for w in doc["warnings"])
    per_sample = pd.read_parquet(summary.run_dir / "per_sample.parquet")
    assert len(per_sample) == 6 and per_sample["clip_score"].between(0, 100).all()
    assert per_sample["clip_score"].mean() == pytest.approx(clip["value"])


def test_report_shows_numbers_images_and_spec(first_run, spec):
    out, summary = first_run
    html = (summary.run_dir / "report.html").read_text()
    assert f"{values(summary)['fid']:.4f}" in html
    assert html.count('<img alt="') == 6  # the image grid: 3 prompts x 2 images
    assert '<img class="plot" alt="clip_score per category with 95% CIs"' in html
    for category in ("Colors", "Counting", "Text"):
        assert f"<h3>{category}</h3>" in html
    assert "RANDOM" in html and "builtin:tiny-sd" in html
    md = (summary.run_dir / "report.md").read_text()
    assert "| fid |" in md and "images/a/0.png" in md and "report-clip_score-categories.png" in md
    assert (summary.run_dir / "report-clip_score-categories.png").read_bytes()[:4] == b"\x89PNG"


def test_second_run_regenerates_and_extracts_nothing(first_run, spec):
    out, first = first_run
    again = run_benchmark(spec, out)
    assert again.images_made == 0 and again.features_extracted == 0 and again.run_dir == first.run_dir
    assert values(again) == values(first)


def test_resume_after_crash_makes_only_missing_images_byte_identical(first_run, spec, tmp_path):
    out, first = first_run
    copy = tmp_path / "runs"
    shutil.copytree(out, copy)
    run_dir = copy / first.run_dir.name
    before = {p: p.read_bytes() for p in (run_dir / "images").rglob("*.png")}
    # Simulate a crash: two images gone, a half-written temporary, a torn journal line.
    (run_dir / "images" / "a" / "1.png").unlink()
    (run_dir / "images" / "c" / "0.png").unlink()
    (run_dir / "images" / "c" / f"{TMP_PREFIX}123").write_bytes(b"\x89PNG half")
    with open(run_dir / "samples.rank0.jsonl", "a") as f:
        f.write('{"prompt_id": "c", "in')
    resumed = run_benchmark(spec, copy)
    assert resumed.images_made == 2
    after = {p: p.read_bytes() for p in (run_dir / "images").rglob("*.png")}
    assert after == before
    assert not list(run_dir.rglob(f"{TMP_PREFIX}*"))
    assert values(resumed) == pytest.approx(values(first))


def test_same_job_gives_same_bytes_from_fresh_pipelines(spec):
    from evalkit.generators.diffusers_pipeline import DiffusersPipelineGenerator
    from evalkit.runner.run import plan_run
    from evalkit.store import png_bytes
    from evalkit.types import GenerationConfig

    jobs = plan_run(spec).jobs[:3]
    config = GenerationConfig(num_inference_steps=2, guidance_scale=3.0)
    one = [png_bytes(i) for i in DiffusersPipelineGenerator.create(model="builtin:tiny-sd").generate(jobs, config)]
    two = [png_bytes(i) for i in DiffusersPipelineGenerator.create(model="builtin:tiny-sd").generate(jobs, config)]
    assert one == two
    assert len(set(one)) == 3  # different seeds/prompts really give different images


def test_image_folder_generator_scores_images_made_elsewhere(first_run, spec, tmp_path):
    out, first = first_run
    folder_spec = parse_spec({
        **spec.dump(),
        "name": "elsewhere",
        "generator": {"name": "image_folder", "path": str(first.run_dir / "images")},
    })
    summary = run_benchmark(folder_spec, tmp_path)
    assert summary.images_made == 6
    assert values(summary)["fid"] == pytest.approx(values(first)["fid"])


def test_builtin_tiny_sd_is_a_saved_pipeline_loaded_by_path():
    path = resolve_builtin("builtin:tiny-sd")
    index = json.loads((path / "model_index.json").read_text())
    assert index["_class_name"] == "StableDiffusionPipeline"
    assert (path / "unet" / "diffusion_pytorch_model.safetensors").is_file()


def test_another_metric_on_the_same_features_extracts_nothing(first_run, spec):
    out, first = first_run
    # Same images (same run id); KID reuses the Inception features FID cached, CMMD the
    # CLIP embeddings CLIP score cached.
    rescored = parse_spec({
        **spec.dump(),
        "metrics": {"kid": {"subset_size": 4, "subsets": 5}, "cmmd": {"model": "builtin:tiny-clip"}},
    })
    summary = run_benchmark(rescored, out)
    assert summary.run_dir == first.run_dir
    assert summary.images_made == 0 and summary.features_extracted == 0
    assert values(summary)["cmmd"] > 0
    cached = sorted(p.name for p in (first.run_dir / "features").iterdir())
    assert cached[0].startswith("clip-open_clip-") and cached[1] == "inception-v3-tf2015-clean"
    assert all(p.name.startswith("chunk-") for p in (first.run_dir / "features" / cached[1]).iterdir())
