"""Third-party plugins: tests/plugin_dist is installed (into a temporary folder on
PYTHONPATH, like any distribution) and evalkit finds its suite, generator and metric
through entry points and runs a spec that uses all three; bad plugins are refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from evalkit.errors import UserError
from evalkit.generators.base import Generator
from evalkit.registry import GENERATORS, METRICS, Registry

PLUGIN = Path(__file__).parent / "plugin_dist"


@pytest.fixture(scope="module")
def plugin_env(tmp_path_factory):
    target = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--target",
                    str(target), str(PLUGIN)], check=True, capture_output=True)
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(target), os.environ.get("PYTHONPATH", "")])}


def evalkit(env, *args, cwd=None):
    return subprocess.run([sys.executable, "-m", "evalkit", *args], capture_output=True, text=True, env=env, cwd=cwd)


def write_spec(path: Path, **changes) -> Path:
    spec = {"name": "plugin", "images_per_prompt": 3,
            "suite": {"name": "colour_squares", "colours": ["red", "white", "blue"]},
            "generator": {"name": "gradient", "size": 16, "batch_size": 2},
            "metrics": {"brightness": {"resamples": 200}}, **changes}
    path.write_text(yaml.safe_dump(spec))
    return path


def test_ls_lists_plugin_entries_with_their_package(plugin_env):
    out = evalkit(plugin_env, "ls")
    assert out.returncode == 0, out.stderr
    lines = {line.split()[0]: line for line in out.stdout.splitlines() if line.startswith("  ")}
    for name, target in (("colour_squares", "ColourSquares"), ("gradient", "GradientGenerator"), ("brightness", "Brightness")):
        assert f"evalkit-example-plugin (evalkit_example_plugin:{target})" in lines[name]
    assert "evalkit " in lines["fid"] and "builtin:procedural" in out.stdout and "builtin:tiny-sd" in out.stdout


def test_a_spec_using_the_plugins_suite_generator_and_metric_runs(plugin_env, tmp_path):
    out = evalkit(plugin_env, "run", str(write_spec(tmp_path / "spec.yaml")), "--out", str(tmp_path / "runs"))
    assert out.returncode == 0, out.stderr
    (run_dir,) = (tmp_path / "runs").iterdir()
    doc = json.loads((run_dir / "metrics.json").read_text())
    images = sorted((run_dir / "images").rglob("*.png"))
    assert len(images) == 9
    # The metric's value, recomputed here from the images the generator wrote.
    luma = {p: np.asarray(Image.open(p).convert("L"), float).mean() / 255 for p in images}
    brightness = doc["metrics"]["brightness"]
    assert brightness["values"]["brightness"]["value"] == pytest.approx(np.mean(list(luma.values())), abs=1e-12)
    white = np.mean([v for p, v in luma.items() if p.parent.name == "square-white"])
    assert brightness["categories"]["brightness"]["white"]["value"] == pytest.approx(white, abs=1e-12)
    assert brightness["categories"]["brightness"]["white"]["value"] > brightness["categories"]["brightness"]["blue"]["value"]
    assert "brightness" in (run_dir / "report.html").read_text()


def test_a_plugin_class_can_be_named_as_module_colon_class(plugin_env, tmp_path):
    spec = write_spec(tmp_path / "spec.yaml", generator={"name": "evalkit_example_plugin:GradientGenerator", "size": 8})
    out = evalkit(plugin_env, "run", str(spec), "--out", str(tmp_path / "runs"))
    assert out.returncode == 0, out.stderr


@pytest.mark.parametrize("change, message", [
    ({"metrics": {"not_a_metric": {}}}, "metric 'not_a_metric' is <class 'evalkit_example_plugin.NotAMetric'>, not a subclass "
                                        "of evalkit.metrics.base.Metric"),
    ({"generator": {"name": "gradient", "size": "16"}}, "generator.size: must be a whole number (got '16')"),
    ({"generator": {"name": "gradient", "sise": 16}}, "generator.sise: unknown option; did you mean 'size'?"),
    ({"generator": {"name": "nosuch.module:Thing"}}, "cannot import nosuch.module"),
])
def test_bad_plugins_and_options_are_one_line_errors(plugin_env, tmp_path, change, message):
    out = evalkit(plugin_env, "run", str(write_spec(tmp_path / "spec.yaml", **change)), "--out", str(tmp_path / "runs"))
    assert out.returncode == 2 and message in out.stderr and out.stderr.count("\n") == 1, out.stderr


def test_register_decorator_and_interface_check():
    registry = Registry("generator", "evalkit.test-only", "evalkit.generators.base:Generator", {})

    @registry.register("solid")
    class Solid(Generator):
        """Solid grey."""

        def generate(self, jobs, config):
            return []

        def fingerprint(self):
            return {}

    @registry.register("half")
    class Half(Generator):  # forgets fingerprint()
        def generate(self, jobs, config):
            return []

    assert registry.load("solid") is Solid and registry.entries()["solid"].description == "Solid grey."
    with pytest.raises(UserError, match="does not implement fingerprint of the generator interface"):
        registry.load("half")
    assert "fid" in METRICS.entries() and "diffusers_pipeline" in GENERATORS.entries()
