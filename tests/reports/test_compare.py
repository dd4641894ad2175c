"""compare verdicts on constructed cases, JUnit XML, JSON verdicts, baseline updates."""

import copy
import json
from xml.etree import ElementTree as ET

import pytest

from evalkit.cli import main

PROV = {"extractor": "inception-v3-tf2015", "weights_sha256": "7ff4", "resize": "clean", "reference_files_sha256": "abc"}
BASE = {
    "run_id": "r",
    "n_images": 100,
    "metrics": {"fid": 20.0, "fid/ci95_low": 19.0, "fid/ci95_high": 21.0,
                "clip_score/mean": 30.0, "clip_score/ci95_low": 29.8, "clip_score/ci95_high": 30.2,
                "clip_score/Colors": 31.0, "kid/mean": 0.010, "kid/std": 0.001},
    "higher_is_better": {"fid": False, "clip_score": True, "kid": False},
    "provenance": {"fid": PROV, "kid": PROV, "clip_score": {"clip_model": "ViT-B-32"}},
}


def write(tmp_path, name, doc):
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(doc))
    return str(path)


def changed(**metrics):
    doc = copy.deepcopy(BASE)
    doc["metrics"].update(metrics)
    return doc


def run(tmp_path, current, *extra):
    return main(["compare", write(tmp_path, "base", BASE), write(tmp_path, "cur", current), *extra])


def test_real_regression_exits_1(tmp_path, capsys):
    assert run(tmp_path, changed(fid=24.0, **{"fid/ci95_low": 23.0, "fid/ci95_high": 25.0})) == 1
    out = capsys.readouterr().out
    assert "| fid | 20.0000 | 24.0000 | +4.0000 |" in out and "❌ regressed" in out


def test_noise_sized_change_exits_0(tmp_path, capsys):
    # +1.2 is beyond the default tolerance (1.0) but inside the CI noise (sqrt(1^2 + 1^2) = 1.41).
    assert run(tmp_path, changed(fid=21.2, **{"fid/ci95_low": 20.2, "fid/ci95_high": 22.2})) == 0
    assert "within noise" in capsys.readouterr().out


def test_within_tolerance_exits_0(tmp_path, capsys):
    assert run(tmp_path, changed(**{"clip_score/mean": 29.6})) == 0  # -0.4 < 0.5 default tolerance
    assert "within tolerance" in capsys.readouterr().out


def test_improvement_exits_0(tmp_path, capsys):
    assert run(tmp_path, changed(fid=10.0, **{"clip_score/mean": 35.0})) == 0
    assert capsys.readouterr().out.count("improved") == 2


def test_tolerance_option_tightens(tmp_path):
    cur = changed(**{"clip_score/mean": 29.6, "clip_score/ci95_low": 29.55, "clip_score/ci95_high": 29.65})
    assert run(tmp_path, cur) == 0
    assert run(tmp_path, cur, "--tolerance", "clip_score/mean=0.1") == 1


def test_mismatched_resize_mode_is_bad_input(tmp_path, capsys):
    cur = copy.deepcopy(BASE)
    cur["provenance"]["fid"] = {**PROV, "resize": "legacy-tf"}
    assert run(tmp_path, cur) == 2
    assert "not comparable: baseline resize 'clean' vs current 'legacy-tf'" in capsys.readouterr().err


def test_missing_metric_and_bad_files_are_bad_input(tmp_path):
    cur = copy.deepcopy(BASE)
    del cur["metrics"]["kid/mean"]
    assert run(tmp_path, cur) == 2
    (tmp_path / "junk.json").write_text("[]")
    assert main(["compare", str(tmp_path / "junk.json"), write(tmp_path, "c", BASE)]) == 2
    assert main(["compare", str(tmp_path / "missing.json"), write(tmp_path, "c", BASE)]) == 2


def test_junit_and_json_outputs(tmp_path):
    junit, verdict = tmp_path / "r.xml", tmp_path / "v.json"
    assert run(tmp_path, changed(fid=30.0), "--junit", str(junit), "--json", str(verdict)) == 1
    suite = ET.parse(junit).getroot()
    assert suite.tag == "testsuite" and suite.get("tests") == "3" and suite.get("failures") == "1"
    failures = [c.get("name") for c in suite if c.find("failure") is not None]
    assert failures == ["fid"]
    doc = json.loads(verdict.read_text())
    assert doc["failed"] is True and {r["metric"]: r["verdict"] for r in doc["rows"]}["fid"] == "regressed"


def test_exact_mode_fails_on_any_change_and_update_baseline(tmp_path, capsys):
    assert run(tmp_path, changed(fid=19.9), "--exact") == 1  # an improvement, but the numbers moved
    assert "--update-baseline" in capsys.readouterr().out
    assert run(tmp_path, copy.deepcopy(BASE), "--exact") == 0
    base, cur = tmp_path / "base.json", write(tmp_path, "new", changed(fid=19.9))
    assert main(["compare", str(base), cur, "--update-baseline"]) == 0
    assert json.loads(base.read_text())["metrics"]["fid"] == pytest.approx(19.9)
    assert main(["compare", str(base), cur, "--exact"]) == 0
