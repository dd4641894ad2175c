import pytest

from evalkit.config import parse_spec
from evalkit.errors import UserError

BASE = {"name": "smoke", "suite": {"name": "smoke"}, "generator": {"name": "image_folder", "path": "x"}}


def test_run_id_ignores_metrics_but_not_generation():
    a = parse_spec(BASE)
    b = parse_spec({**BASE, "metrics": {"clip_score": {}}})
    c = parse_spec({**BASE, "seed": 1})
    d = parse_spec({**BASE, "generation": {"guidance_scale": 3.0}})
    assert a.run_id == b.run_id
    assert len({a.run_id, c.run_id, d.run_id}) == 3
    assert a.run_id.startswith("smoke-")


def test_options_are_kept_for_the_constructor():
    spec = parse_spec({**BASE, "generator": {"name": "diffusers_pipeline", "model": "m", "batch_size": 2}})
    assert spec.generator.options == {"model": "m", "batch_size": 2}


def test_bad_name_and_resize():
    with pytest.raises(UserError, match="name: String should match pattern"):
        parse_spec({**BASE, "name": "has space"})
    with pytest.raises(UserError, match="reference.resize"):
        parse_spec({**BASE, "reference": {"images": "x", "resize": "bilinear"}})


def test_kid_needs_reference_images():
    with pytest.raises(UserError, match="kid needs reference images"):
        parse_spec({**BASE, "reference": {"stats": "ref.npz"}, "metrics": {"kid": {}}})
