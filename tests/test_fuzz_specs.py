"""Property-based fuzzing (hypothesis): arbitrary YAML mappings given to the spec loader
and the sweep loader either load or raise one UserError line — never anything else."""

from __future__ import annotations

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evalkit.config import parse_spec
from evalkit.errors import UserError
from evalkit.runner.sweep import expand, load_sweep

FIELDS = ["name", "seed", "images_per_prompt", "suite", "generator", "generation", "reference", "metrics", "report"]
NAMES = ["smoke", "drawbench", "file", "image_folder", "diffusers_pipeline", "imagen_cascade", "deepfloyd_if",
         "fid", "kid", "clip_score", "cmmd", "nosuch", "x.y:Z"]
OPTIONS = ["name", "path", "model", "batch_size", "device", "dtype", "stages", "guidance", "aug_level", "subset_size",
           "subsets", "bootstrap", "metric", "resize", "images", "stats", "guidance_scale", "height", "verify", "scheduler"]

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True),
                    st.text(max_size=12), st.sampled_from(NAMES))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(OPTIONS) | st.text(max_size=6), inner, max_size=5)),
    max_leaves=20)
components = st.one_of(values, st.fixed_dictionaries({"name": st.sampled_from(NAMES)},
                                                     optional={k: values for k in OPTIONS[1:12]}))
specs = st.fixed_dictionaries(
    {}, optional={"name": st.one_of(st.sampled_from(["ok", "has space", "x" * 90]), values), "seed": values,
                  "images_per_prompt": values, "suite": components, "generator": components, "generation": values,
                  "reference": values, "metrics": st.dictionaries(st.sampled_from(NAMES), components, max_size=3) | values,
                  "report": values, "extra": values})

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def only_user_errors(load) -> None:
    try:
        load()
    except UserError as err:
        assert "\n" not in str(err), str(err)


@FUZZ
@given(specs)
def test_spec_loader_raises_only_one_line_user_errors(data):
    only_user_errors(lambda: parse_spec(data))


@FUZZ
@given(st.one_of(values, st.fixed_dictionaries({"name": st.sampled_from(["sw", "bad name"]), "base": st.one_of(specs, values),
                                                "axes": st.dictionaries(st.sampled_from(FIELDS + ["generator.model", "a..b"]),
                                                                        st.lists(scalars, max_size=3) | values, max_size=3)})))
def test_sweep_loader_raises_only_one_line_user_errors(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("sweep") / "sweep.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")

    def load():
        sweep, base = load_sweep(path)
        expand(sweep, base)

    only_user_errors(load)


def test_a_valid_spec_survives_the_strategy_shape():
    """The fuzzer's shape can express a valid spec, so it explores past the first error."""
    spec = parse_spec({"name": "ok", "suite": {"name": "smoke"}, "generator": {"name": "image_folder", "path": "x"}})
    assert spec.suite.name == "smoke"
