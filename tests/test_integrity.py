"""Integrity when inputs change or are hostile: ids that would escape the run directory,
runs keyed by content, a run directory never in a mixed state, validation before the
first image, honest errors. Runs use the image_folder generator (no model), so they are fast."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from evalkit.cli import main
from evalkit.config import parse_spec
from evalkit.errors import UserError
from evalkit.runner.run import plan_run, run_benchmark
from evalkit.store import RunStore
from evalkit.suites.base import check_prompt_id
from evalkit.types import Prompt


def folder_of_images(root: Path, ids: list[str], n: int = 2, size: int = 16) -> Path:
    for k, pid in enumerate(ids):
        (root / pid).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            rng = np.random.default_rng(100 * k + i)
            Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)).save(root / pid / f"{i}.png")
    return root


@pytest.fixture
def setup(tmp_path):
    prompts = tmp_path / "prompts.csv"
    prompts.write_text("id,text,category\na,A red cube.,Colors\nb,Two dogs.,Counting\n")
    folder = folder_of_images(tmp_path / "made-elsewhere", ["a", "b"])
    spec = {"name": "integ", "images_per_prompt": 2, "suite": {"name": "file", "path": str(prompts)},
            "generator": {"name": "image_folder", "path": str(folder)}, "metrics": {}}
    return tmp_path, prompts, folder, spec


def cli(tmp_path, spec: dict, *extra) -> int:
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    return main(["run", str(path), "--out", str(tmp_path / "runs"), *extra])


@pytest.mark.parametrize("pid, why", [
    ("../../escape", "is not allowed: ids must not start with '.'"), ("/etc/cron.d/x", "is not allowed: ids must not contain '/'"),
    ("a\x00b", "(path separators or control characters)"), ("..", "is not allowed: ids must not start with '.'"),
    ("x/../../y", "ids must not contain '/'"), ("", "must be a non-empty id"), ("tab\there", "control characters"),
])
def test_ids_that_would_leave_the_run_directory_are_refused(setup, capsys, pid, why):
    tmp_path, prompts, _, spec = setup
    prompts.write_text("id,text\n" + json.dumps(pid) + ",A red cube.\n")
    assert cli(tmp_path, spec) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and why in err
    assert not (tmp_path / "runs").exists() and not (tmp_path.parent / "escape").exists()


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=0, max_size=30))
def test_any_accepted_id_stays_inside_the_images_folder(pid):
    store = RunStore(Path("/tmp/evalkit-run-root"))
    if check_prompt_id(pid) is not None:
        return
    path = os.path.realpath(store.image_path(pid, 3))
    assert os.path.commonpath([os.path.realpath(store.images_dir), path]) == os.path.realpath(store.images_dir)
    assert path.endswith(f"{pid}/3.png") and Prompt(pid, "t").id == pid


def test_an_edited_prompt_file_starts_a_new_run(setup):
    tmp_path, prompts, _, spec_dict = setup
    first = run_benchmark(parse_spec(spec_dict), tmp_path / "runs")
    prompts.write_text("id,text,category\na,A photo of a cat.,Colors\nb,Two dogs.,Counting\n")
    second = run_benchmark(parse_spec(spec_dict), tmp_path / "runs")
    assert second.run_dir != first.run_dir and second.images_made == 4  # never the "red cube" images relabelled
    import pandas as pd

    texts = pd.read_parquet(second.run_dir / "samples.parquet").drop_duplicates("prompt_id")["text"].tolist()
    assert texts == ["A photo of a cat.", "Two dogs."]


def test_changed_model_files_start_a_new_run(setup):
    tmp_path, _, folder, spec_dict = setup
    first = plan_run(parse_spec(spec_dict)).run_id
    Image.new("RGB", (16, 16), (9, 9, 9)).save(folder / "a" / "0.png")  # the "model" changed
    assert plan_run(parse_spec(spec_dict)).run_id != first
    assert plan_run(parse_spec(spec_dict)).run_id == plan_run(parse_spec(spec_dict)).run_id


def test_a_corrupted_image_in_a_finished_run_is_made_again(setup):
    tmp_path, _, _, spec_dict = setup
    first = run_benchmark(parse_spec(spec_dict), tmp_path / "runs")
    image = first.run_dir / "images" / "b" / "1.png"
    good = image.read_bytes()
    image.write_bytes(b"\x89PNG garbage")
    again = run_benchmark(parse_spec(spec_dict), tmp_path / "runs")
    assert again.images_remade == 1 and again.images_made == 1 and image.read_bytes() == good


def test_a_failed_rerun_with_other_metrics_leaves_no_mixed_run_directory(setup, capsys):
    tmp_path, _, _, spec = setup
    spec = {**spec, "reference": {"images": "builtin:procedural"}, "metrics": {"fid": {"bootstrap": 0}}}
    assert cli(tmp_path, spec) == 0
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert (run_dir / "metrics.json").is_file()
    # Same images, new metrics; KID's subset is larger than the 4 images, so scoring fails.
    assert cli(tmp_path, {**spec, "metrics": {"kid": {"subset_size": 40}}}) == 2
    recorded = yaml.safe_load((run_dir / "spec.yaml").read_text())["spec"]
    assert list(recorded["metrics"]) == ["kid"]
    for name in ("metrics.json", "report.html", "report.md"):
        assert not (run_dir / name).exists(), name  # the old results are gone with the old spec
    capsys.readouterr()
    assert main(["report", str(run_dir)]) == 2 and "give a finished run directory" in capsys.readouterr().err
    assert main(["compare", str(run_dir), str(run_dir), "--exact"]) == 2


@pytest.mark.parametrize("change, message", [
    ({"metrics": {"kid": {"subsets": -1}}, "reference": {"images": "builtin:procedural"}}, "metrics.kid.subsets"),
    ({"metrics": {"fid": {"bootstrap": "20"}}, "reference": {"images": "builtin:procedural"}}, "metrics.fid.bootstrap"),
    ({"metrics": {"fid": {}}, "reference": {"images": "/no/such/folder"}}, "reference.images: folder not found"),
    ({"metrics": {"fid": {"device": "cuda"}}, "reference": {"images": "builtin:procedural"}}, "metrics.fid.device"),
    ({"generator": {"name": "diffusers_pipeline", "model": "builtin:tiny-sd", "scheduler": "UNet2DConditionModel"}},
     "is not a diffusers scheduler class"),
    ({"generator": {"name": "diffusers_pipeline", "model": "builtin:tiny-sd", "device": "cuda"}}, "device 'cuda' is not available"),
    ({"generation": {"height": 63}}, "generation.height: must be a multiple of 8"),
    ({"generation": {"guidance_scale": float("nan")}}, "guidance_scale: must be a finite number"),
    ({"name": "n" * 300}, "name: must have at most 80 characters"),
])
def test_bad_settings_are_reported_before_the_first_image(setup, capsys, change, message):
    tmp_path, _, _, spec = setup
    assert cli(tmp_path, {**spec, **change}) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not list((tmp_path / "runs").rglob("*.png")) if (tmp_path / "runs").exists() else True


def test_out_that_is_a_file_and_a_full_disk_are_one_line_errors(setup, capsys, monkeypatch):
    tmp_path, _, _, spec = setup
    (tmp_path / "runs").write_text("not a folder")
    assert cli(tmp_path, spec) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "a path component is a file, not a folder" in err
    (tmp_path / "runs").unlink()
    import errno

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    assert cli(tmp_path, spec) == 2
    assert "no space left on the device" in capsys.readouterr().err


def test_damaged_evalkit_files_are_one_line_errors(setup, capsys):
    tmp_path, _, _, spec = setup
    spec = {**spec, "reference": {"images": "builtin:procedural"}, "metrics": {"fid": {"bootstrap": 0}}}
    assert cli(tmp_path, spec) == 0
    (run_dir,) = (tmp_path / "runs").iterdir()
    (chunk,) = (run_dir / "features" / "inception-v3-tf2015-clean").iterdir()
    chunk.write_bytes(chunk.read_bytes()[:100])  # truncated features
    with open(run_dir / "samples.rank0.jsonl", "a") as f:
        f.write('{"prompt_id": "a", "sha256": "x"}\n')  # a journal line without index: ignored
    capsys.readouterr()
    assert cli(tmp_path, spec) == 2
    err = capsys.readouterr().err
    assert "feature cache file" in err and "is corrupt; delete it" in err and err.count("\n") == 1
    chunk.unlink()
    assert cli(tmp_path, spec) == 0
    (run_dir / "metrics.json").write_text('{"schema_version": 2, "run_id": ')
    capsys.readouterr()
    assert main(["compare", str(run_dir), str(run_dir)]) == 2
    assert "is not valid JSON (truncated?)" in capsys.readouterr().err


def test_high_bit_depth_images_are_scaled_not_clipped(tmp_path):
    from evalkit.images import open_rgb

    grey = np.full((8, 8), 32768, np.uint16)  # mid-grey in 16 bits
    Image.fromarray(grey).save(tmp_path / "grey16.png")
    assert Image.open(tmp_path / "grey16.png").mode.startswith("I")
    assert np.asarray(open_rgb(tmp_path / "grey16.png")).tolist()[0][0] == [128, 128, 128]  # not 255


def test_a_decompression_bomb_is_refused_with_the_limit_and_the_fix(tmp_path, monkeypatch):
    from evalkit.images import open_rgb

    Image.new("RGB", (64, 64)).save(tmp_path / "big.png")
    monkeypatch.setenv("EVALKIT_MAX_IMAGE_PIXELS", "100")
    with pytest.raises(UserError, match="too large to open safely.*EVALKIT_MAX_IMAGE_PIXELS"):
        open_rgb(tmp_path / "big.png")
    monkeypatch.setenv("EVALKIT_MAX_IMAGE_PIXELS", "100000")
    assert open_rgb(tmp_path / "big.png").size == (64, 64)


def test_files_are_written_with_the_users_umask(tmp_path):
    code = textwrap.dedent(f"""
        import os, stat
        os.umask(0o002)
        from evalkit.store import atomic_write_text
        atomic_write_text({str(tmp_path / 'shared.txt')!r}, "x")
        print(oct(stat.S_IMODE(os.stat({str(tmp_path / 'shared.txt')!r}).st_mode)))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0o664"  # group-writable, as the team's umask says (mkstemp alone gives 0600)


def test_cleanup_never_deletes_a_live_writers_temporary(tmp_path):
    from evalkit.store import TMP_PREFIX, _HOST

    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    try:
        (tmp_path / f"{TMP_PREFIX}{_HOST}-{live.pid}-abc").write_bytes(b"in flight")
        (tmp_path / f"{TMP_PREFIX}{_HOST}-{dead.pid}-def").write_bytes(b"crashed")
        assert RunStore(tmp_path).remove_stale_temporaries() == 1
        assert [p.name for p in tmp_path.iterdir()] == [f"{TMP_PREFIX}{_HOST}-{live.pid}-abc"]
    finally:
        live.kill()


def test_hub_revisions_resolve_to_the_cached_commit(tmp_path, monkeypatch):
    from huggingface_hub import constants

    from evalkit.generators.model_ref import hub_revision

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    ref = tmp_path / "models--org--model" / "refs" / "main"
    ref.parent.mkdir(parents=True)
    ref.write_text("a" * 40)
    assert hub_revision("org/model", None) == "a" * 40  # the run key follows the repository's commit
    assert hub_revision("org/other", "v1.0") == "v1.0"  # offline, not cached: the name as given
    assert hub_revision("org/model", "b" * 40) == "b" * 40


def test_gifs_are_images_and_other_files_are_listed_as_skipped(tmp_path):
    from PIL import Image

    from evalkit.images import list_images, open_rgb

    Image.new("P", (8, 8), 3).save(tmp_path / "a.gif")
    Image.new("RGB", (8, 8), (9, 9, 9)).save(tmp_path / "b.png")
    (tmp_path / "notes.txt").write_text("not an image")
    images, skipped = list_images(tmp_path)
    assert [p.name for p in images] == ["a.gif", "b.png"] and [p.name for p in skipped] == ["notes.txt"]
    assert open_rgb(images[0]).mode == "RGB"
