import pytest

from evalkit.config import parse_spec
from evalkit.errors import UserError

BASE = {"name": "smoke", "suite": {"name": "smoke"}, "generator": {"name": "image_folder", "path": "x"}}


def test_generation_key_ignores_metrics_but_not_generation():
    a = parse_spec(BASE)
    b = parse_spec({**BASE, "metrics": {"clip_score": {}}})
    c = parse_spec({**BASE, "seed": 1})
    d = parse_spec({**BASE, "generation": {"guidance_scale": 3.0}})
    e = parse_spec({**BASE, "generator": {"name": "image_folder", "path": "x", "batch_size": 16}})  # the default
    assert a.generation_key() == b.generation_key() == e.generation_key()
    assert len({a.generation_key(), c.generation_key(), d.generation_key()}) == 3


def test_options_are_typed_and_defaults_filled_in():
    spec = parse_spec({**BASE, "generator": {"name": "diffusers_pipeline", "model": "m", "batch_size": 2}})
    assert spec.generator.options.model == "m" and spec.generator.options.batch_size == 2
    assert spec.dump()["generator"] == {"name": "diffusers_pipeline", "batch_size": 2, "device": "cpu", "dtype": "float32",
                                        "model": "m", "revision": None, "variant": None, "scheduler": None,
                                        "scheduler_options": {}, "safety_checker": True}
    assert parse_spec(spec.dump()).dump() == spec.dump()  # the recorded spec reads back as itself


@pytest.mark.parametrize("change, message", [
    ({"name": "has space"}, "name: must match pattern"),
    ({"name": "x" * 300}, "name: must have at most 80 characters"),
    ({"reference": {"images": "x", "resize": "bilinear"}}, "reference.resize: must be 'clean' or 'legacy-tf'"),
    ({"generation": {"guidance_scale": float("nan")}}, "generation.guidance_scale: must be a finite number"),
    ({"generation": {"height": 63}}, "generation.height: must be a multiple of 8"),
    ({"seed": "0"}, "seed: must be a whole number (got '0')"),
    ({"generator": {"name": "diffusers_pipeline", "model": "m", "batch_size": "4"}},
     "generator.batch_size: must be a whole number (got '4')"),
    ({"generator": {"name": "diffusers_pipeline", "model": "m", "device": "banana"}},
     "generator.device: must be cpu, cuda, cuda:N, mps, xpu or xpu:N"),
    ({"generator": {"name": "imagen_cascade", "model": "m", "stages": [{}, {"aug_level": 1.5}]}},
     "generator.stages.1.aug_level: must be less than 1 (got 1.5)"),
    ({"metrics": {"kid": {"subsets": -1}}, "reference": {"images": "x"}}, "metrics.kid.subsets: must be greater than or equal to 1"),
    ({"metrics": {"fid": {"bootstrap": "20"}}, "reference": {"images": "x"}}, "metrics.fid.bootstrap: must be a whole number"),
    ({"metrics": {"fid": {"bootstrp": 20}}, "reference": {"images": "x"}}, "metrics.fid.bootstrp: unknown option; did you mean 'bootstrap'?"),
    ({"metrics": {"fd2": {"metric": "nosuch"}}}, "unknown metric 'nosuch'"),
])
def test_bad_values_are_one_line_errors_with_the_dotted_path(change, message):
    with pytest.raises(UserError) as err:
        parse_spec({**BASE, **change})
    assert message in str(err.value) and "\n" not in str(err.value)


def test_kid_needs_reference_images():
    with pytest.raises(UserError, match="metrics.kid: needs reference images"):
        parse_spec({**BASE, "reference": {"stats": "ref.npz"}, "metrics": {"kid": {}}})


def test_a_metric_key_can_name_another_implementation():
    spec = parse_spec({**BASE, "reference": {"images": "x"}, "metrics": {"fid": {}, "fid_again": {"metric": "fid", "bootstrap": 0}}})
    assert spec.metrics["fid_again"].name == "fid" and spec.metrics["fid_again"].options.bootstrap == 0
    assert spec.dump()["metrics"]["fid_again"]["metric"] == "fid"
