"""precision_recall / density_coverage metrics on any extractor: values equal to torch-fidelity
0.4's prc and the prdc package on the extractor's own features, per category, their
jackknife CIs (metrics/jackknife.py, checked against the leave-one-out formula), and
CMMD's CI from the same jackknife."""

import contextlib
import io

import numpy as np
import pytest
import torch

from evalkit.builtin.procedural import draw as _draw_procedural
from evalkit.config import ReferenceSpec
from evalkit.metrics.extractors.dinov2 import Dinov2Extractor
from evalkit.metrics.jackknife import as_estimate, jackknife
from evalkit.runner.folder import score_folder
from evalkit.suites.files import load as load_prompts

PROMPTS, PER_PROMPT = 24, 2


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("knn")
    rows = ["id,text,category"]
    for p in range(PROMPTS):
        rows.append(f"p{p:02d},prompt {p},{'a' if p % 2 else 'b'}")
        (root / "images" / f"p{p:02d}").mkdir(parents=True)
        for i in range(PER_PROMPT):
            _draw_procedural(300 + PER_PROMPT * p + i, 64).save(root / "images" / f"p{p:02d}" / f"{i}.png")
    (root / "prompts.csv").write_text("\n".join(rows) + "\n")
    return root


@pytest.fixture(scope="module")
def results(folder):
    metrics = {"precision_recall": {"model": "builtin:tiny-dinov2"},
               "dc_dino": {"metric": "density_coverage", "model": "builtin:tiny-dinov2", "replicates": 8},
               "cmmd": {"model": "builtin:tiny-clip"}}
    return score_folder(str(folder / "images"), ReferenceSpec(images="builtin:procedural"), metrics,
                        load_prompts(folder / "prompts.csv"))[0]


@pytest.fixture(scope="module")
def feats():
    """The generated (in samples order: prompt, index) and reference DINOv2 features."""
    ex = Dinov2Extractor.create(model="builtin:tiny-dinov2")
    gen = ex.extract([np.asarray(_draw_procedural(300 + i, 64)) for i in range(PROMPTS * PER_PROMPT)])
    return gen.astype(np.float64), ex.extract([np.asarray(_draw_procedural(i, 64)) for i in range(48)]).astype(np.float64)


def test_precision_recall_is_torch_fidelity_prc(results, feats):
    from torch_fidelity.metric_prc import calculate_precision_recall_full

    gen, ref = feats
    theirs = calculate_precision_recall_full(torch.from_numpy(gen), torch.from_numpy(ref), 3, 10000)
    pr = results.metrics["precision_recall"]
    assert (pr.values["precision"].value, pr.values["recall"].value) == pytest.approx(theirs, abs=1e-6)
    assert pr.values["precision"].n == 48 and pr.provenance["knn_k"] == 3
    odd = gen[[PER_PROMPT * p + i for p in range(1, PROMPTS, 2) for i in range(PER_PROMPT)]]
    cat_a = calculate_precision_recall_full(torch.from_numpy(odd), torch.from_numpy(ref), 3, 10000)
    assert pr.categories["precision"]["a"].value == pytest.approx(cat_a[0], abs=1e-6)
    assert pr.categories["recall"]["a"].n == 24


def test_density_coverage_is_prdc(results, feats):
    from prdc import compute_prdc

    gen, ref = feats
    with contextlib.redirect_stdout(io.StringIO()):
        theirs = compute_prdc(real_features=ref, fake_features=gen, nearest_k=5)
    dc = results.metrics["dc_dino"]  # not the default name: keys are prefixed
    assert dc.values["dc_dino_density"].value == pytest.approx(theirs["density"], abs=1e-9)
    assert dc.values["dc_dino_coverage"].value == pytest.approx(theirs["coverage"], abs=1e-9)
    assert dc.provenance["knn_replicates"] == 8 and dc.provenance["extractor"] == "dinov2"


def test_intervals_come_from_the_prompt_jackknife(results, feats):
    from evalkit.metrics.functional.knn import precision_recall

    gen, ref = feats
    prompts = np.repeat(np.arange(PROMPTS), PER_PROMPT)
    (prec, _), = [jackknife(lambda rows: np.array(precision_recall(gen[rows], ref)),
                            np.array(precision_recall(gen, ref)), prompts, 20, 0)]
    expected = as_estimate(prec, 48, (0.0, 1.0))
    got = results.metrics["precision_recall"].values["precision"]
    assert (got.low, got.high, got.std) == pytest.approx((expected.low, expected.high, expected.std))
    assert got.low <= got.value <= got.high
    assert any("precision_recall from 48 samples < 10,000" in w for w in results.warnings)


def test_jackknife_of_a_mean_is_its_standard_error():
    x = np.random.default_rng(0).normal(size=30)
    (est,) = jackknife(lambda rows: x[rows].mean(), x.mean(), np.arange(30), replicates=30)
    assert est.std == pytest.approx(x.std(ddof=1) / np.sqrt(30), rel=1e-12) and est.dof == 29
    (grouped,) = jackknife(lambda rows: x[rows].mean(), x.mean(), np.arange(30) // 3, replicates=5, seed=1)
    assert grouped.dof == 4 and 0 < grouped.std
    assert jackknife(lambda rows: x[rows].mean(), x.mean(), np.zeros(30), replicates=5) is None  # one prompt: no CI


def test_cmmd_has_a_jackknife_interval_around_its_value(results):
    cmmd = results.metrics["cmmd"].values["cmmd"]
    assert cmmd.low < cmmd.value < cmmd.high and cmmd.n == 48
    assert set(results.metrics["cmmd"].categories["cmmd"]) == {"a", "b"}
