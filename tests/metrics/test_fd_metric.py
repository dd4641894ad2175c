"""`fd` on any extractor: CLIP-FID against clean-fid's `clip_vit_b_32` code path (its own
img_preprocess_clip and CLIP_fx.__call__, run on a random-weight 224 px open_clip model
through evalkit's loading path; its frechet_distance on the features), option shapes and
their one-line errors (also fuzzed), per-category estimates, and `compare` refusing FDs made with
different extractors."""

import json
import sys
import types

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evalkit.builtin.clip import TINY_CLIP_CONFIG, build_tiny_clip
from evalkit.builtin.procedural import draw as _draw_procedural
from evalkit.cli import main
from evalkit.config import parse_spec
from evalkit.errors import UserError
from evalkit.metrics.extractors.clip import ClipExtractor
from evalkit.metrics.extractors.dinov2 import Dinov2Extractor
from evalkit.metrics.fid import fid_estimate
from evalkit.metrics.functional.frechet_ci import CIPlan, GaussianStats
from evalkit.reports.compare import compare
from evalkit.results import Estimate, MetricResult, RunResults

CLIP_224 = {**TINY_CLIP_CONFIG, "vision_cfg": {**TINY_CLIP_CONFIG["vision_cfg"], "image_size": 224, "patch_size": 32}}


def images(seed0: int, n: int, size=(80, 96)) -> list[np.ndarray]:
    return [np.asarray(_draw_procedural(seed0 + i, 64).resize(size)) for i in range(n)]


@pytest.fixture(scope="module")
def clip224(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clip224")
    build_tiny_clip(folder, seed=3, config=CLIP_224)
    return ClipExtractor.create(model=f"local-dir:{folder}", normalize=False)


@pytest.fixture(scope="module")
def cleanfid_clip(monkeypatch_module):
    """cleanfid.clip_features, imported with a stand-in for OpenAI's `clip` package (which it
    imports at the top but whose model we replace with ours)."""
    monkeypatch_module.setitem(sys.modules, "clip", types.ModuleType("clip"))
    monkeypatch_module.delitem(sys.modules, "cleanfid.clip_features", raising=False)
    import cleanfid.clip_features as clip_features

    return clip_features


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def cleanfid_features(clip_features, model, batch: list[np.ndarray]) -> np.ndarray:
    """clean-fid's CLIP path: img_preprocess_clip per image, ResizeDataset's ToTensor()*255,
    then CLIP_fx.__call__ (/255, CLIP mean/std, encode_image)."""
    import torchvision

    fx = clip_features.CLIP_fx.__new__(clip_features.CLIP_fx)
    fx.model = model
    to_tensor = torchvision.transforms.ToTensor()
    x = torch.stack([to_tensor(clip_features.img_preprocess_clip(im)) * 255 for im in batch])
    return fx(x).numpy()


def test_clip_fid_features_are_clean_fids(clip224, cleanfid_clip):
    batch = images(0, 6)
    theirs = cleanfid_features(cleanfid_clip, clip224.backend.model, batch)
    np.testing.assert_allclose(clip224.extract(batch), theirs, rtol=0, atol=2e-5)
    assert clip224.provenance()["clip_features"].startswith("raw")


@pytest.mark.slow
def test_clip_fid_equals_clean_fids_frechet_distance(clip224):
    from cleanfid.fid import frechet_distance

    gen, ref = clip224.extract(images(100, 72)), clip224.extract(images(700, 72, (64, 64)))  # n > 64 dims
    theirs = frechet_distance(np.mean(gen, axis=0), np.cov(gen, rowvar=False), np.mean(ref, axis=0),
                              np.cov(ref, rowvar=False))
    ours = fid_estimate(gen, GaussianStats.of(ref), CIPlan(replicates=0)).value  # what clip_fid computes
    # clean-fid's scipy sqrtm of the non-symmetric product agrees to ~1e-6 of traces that sum to ~18
    assert ours == pytest.approx(theirs, abs=1e-5) and ours > 0.1


BASE = {"name": "t", "suite": {"name": "smoke"}, "generator": {"name": "image_folder", "path": "."},
        "reference": {"images": "builtin:procedural"}}


def metrics_of(**metrics):
    return parse_spec({**BASE, "metrics": metrics}).metrics


def test_option_shapes_fill_the_extractors_defaults():
    m = metrics_of(fd_dinov2={"metric": "fd", "model": "builtin:tiny-dinov2"}, clip_fid={},
                   fd_incep={"metric": "fd", "extractor": "inception", "resize": "legacy-tf"})
    assert m["fd_dinov2"].options.extractor_options() == {
        "device": "cpu", "batch_size": 32, "workers": None, "model": "builtin:tiny-dinov2", "revision": None,
        "resize": "bicubic"}
    clip = m["clip_fid"].options.extractor_options()
    assert (m["clip_fid"].options.extractor, clip["model"], clip["pretrained"], clip["normalize"]) == \
        ("clip", "ViT-B-32", "openai", False)
    assert m["fd_incep"].options.extractor_options()["resize"] == "legacy-tf"
    # the dumped (resolved) spec loads back to the same options
    again = parse_spec({**BASE, "metrics": parse_spec({**BASE, "metrics": {"clip_fid": {}}}).dump()["metrics"]})
    assert again.metrics["clip_fid"].options == m["clip_fid"].options


@pytest.mark.parametrize("options, message", [
    ({"extractor": "dinov3"}, "metrics.fd.extractor: unknown extractor 'dinov3': did you mean 'dinov2'?"),
    ({"modle": "x"}, "metrics.fd.modle: unknown option; did you mean 'model'? (options: extractor, bootstrap, ci_method, seed, "
                     "device, batch_size, workers, model, revision, resize)"),
    ({"model": 3}, "metrics.fd.model: must be text (got 3)"),
    ({"extractor": 3}, "metrics.fd.extractor: must be text (got 3)"),
    ({"resize": "legacy-tf"}, "metrics.fd.resize: must be 'bicubic' or 'clean' (got 'legacy-tf')"),
    ({"extractor": "clip", "normalise": False}, "metrics.fd.normalise: unknown option; did you mean 'normalize'?"),
    ({"bootstrap": -1}, "metrics.fd.bootstrap: must be greater than or equal to 0 (got -1)"),
])
def test_bad_options_are_one_line_errors(options, message):
    with pytest.raises(UserError) as err:
        metrics_of(fd=options)
    assert message in str(err.value) and "\n" not in str(err.value)


def fd_results(run_id: str, **provenance) -> RunResults:
    prov = {"extractor": "dinov2", "dinov2_model": "facebook/dinov2-large", "reference_files_sha256": "r",
            "preprocess": "bicubic resize to 224x224, ImageNet mean/std; CLS token after the final norm", **provenance}
    fd = MetricResult("fd", False, {"fd": Estimate(10.0, 9.0, 11.0, n=100)}, provenance=prov)
    return RunResults(run_id, 100, 50, {"fd": fd})


@pytest.mark.parametrize("change, field", [
    ({"extractor": "clip", "clip_model": "ViT-B-32"}, "extractor"),
    ({"dinov2_model": "facebook/dinov2-small"}, "dinov2_model"),
    ({"preprocess": "clean resize to 224x224, ImageNet mean/std; CLS token after the final norm"}, "preprocess"),
])
def test_compare_refuses_fds_of_different_extractors(change, field):
    with pytest.raises(UserError, match=f"fd is not comparable: baseline {field} "):
        compare(fd_results("a"), fd_results("b", **change))
    assert compare(fd_results("a"), fd_results("b"))[0].verdict == "unchanged"


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    """A folder of <prompt-id>/<n>.png with categories, scored with fd (tiny DINOv2) and clip_fid."""
    root = tmp_path_factory.mktemp("fdrun")
    rows = ["id,text,category"]
    for p in range(8):
        rows.append(f"p{p},prompt {p},{'cats' if p < 4 else 'dogs'}")
        for i in range(3):
            (root / "images" / f"p{p}").mkdir(parents=True, exist_ok=True)
            _draw_procedural(100 + 3 * p + i, 64).save(root / "images" / f"p{p}" / f"{i}.png")
    (root / "prompts.csv").write_text("\n".join(rows) + "\n")
    return root


def test_fd_per_category_is_the_fd_of_that_categorys_images(scored, capsys):
    code = main(["score", "--images", str(scored / "images"), "--prompts", str(scored / "prompts.csv"),
                 "--reference", "builtin:procedural", "--metrics", "fd,clip_fid", "--set", "fd.model=builtin:tiny-dinov2",
                 "--set", "fd.bootstrap=0", "--set", "clip_fid.model=builtin:tiny-clip", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0
    fd = doc["metrics"]["fd"]
    assert fd["values"]["fd"]["n"] == 24 and set(fd["categories"]["fd"]) == {"cats", "dogs"}
    ex = Dinov2Extractor.create(model="builtin:tiny-dinov2")  # the extractor the metric used
    cats = ex.extract([np.asarray(_draw_procedural(100 + 3 * p + i, 64)) for p in range(4) for i in range(3)])
    ref = ex.extract([np.asarray(_draw_procedural(i, 64)) for i in range(48)])
    assert fd["categories"]["fd"]["cats"]["value"] == pytest.approx(
        fid_estimate(cats, GaussianStats.of(ref), CIPlan(replicates=0)).value, rel=1e-5)
    assert fd["categories"]["fd"]["cats"]["n"] == 12
    assert fd["provenance"]["extractor"] == "dinov2" and fd["provenance"]["features_key"].startswith("dinov2-")
    assert doc["metrics"]["clip_fid"]["provenance"]["clip_features"].startswith("raw")
    assert any("fd per category from 12 samples <= 32 feature dims" in w for w in doc["warnings"])


KEYS = ["extractor", "model", "resize", "normalize", "bootstrap", "ci_method", "k", "replicates", "device", "modle", "x"]
VALUES = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=True), st.text(max_size=8),
                   st.sampled_from(["dinov2", "clip", "inception", "dinov3", "builtin:tiny-dinov2", "cuda:0"]),
                   st.lists(st.integers(), max_size=2))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["fd", "clip_fid", "precision_recall", "density_coverage"]),
       st.one_of(VALUES, st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=4)))
def test_any_extractor_options_load_or_fail_in_one_line(metric, options):
    try:
        parse_spec({**BASE, "metrics": {"m": {"metric": metric, **options} if isinstance(options, dict) else options}})
    except UserError as err:
        assert "\n" not in str(err)
