"""compare verdicts on constructed cases, JUnit XML, JSON verdicts, baseline updates.

BASE is a version-1 metrics.json (flat keys), which must still load; the current results
are written either way."""

import copy
import errno
import json
import os
from xml.etree import ElementTree as ET

import pytest

from evalkit.cli import main

PROV = {"extractor": "inception-v3-tf2015", "weights_sha256": "7ff4", "resize": "clean", "reference_files_sha256": "abc"}
BASE = {
    "run_id": "r",
    "n_images": 100,
    "n_prompts": 50,
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
    assert run(tmp_path, cur, "--tolerance", "clip_score/mean=0.1") == 1  # the version-1 name still works
    assert run(tmp_path, cur, "--tolerance", "clip_score=0.1") == 1


def test_mismatched_resize_mode_is_bad_input(tmp_path, capsys):
    cur = copy.deepcopy(BASE)
    cur["provenance"]["fid"] = {**PROV, "resize": "legacy-tf"}
    assert run(tmp_path, cur) == 2
    assert "not comparable: baseline resize 'clean' vs current 'legacy-tf'" in capsys.readouterr().err


def test_missing_metric_and_bad_files_are_bad_input(tmp_path):
    cur = copy.deepcopy(BASE)
    del cur["metrics"]["kid/mean"]
    assert run(tmp_path, cur) == 1  # kid is there but has no value: invalid, a failure
    for key in ("kid/std",):
        del cur["metrics"][key]
    del cur["higher_is_better"]["kid"]
    assert run(tmp_path, cur) == 2  # kid is not there at all: the results are not comparable
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


@pytest.mark.parametrize("where", ["current", "baseline"])
@pytest.mark.parametrize("value", [float("nan"), float("inf"), None])
@pytest.mark.parametrize("mode", [[], ["--exact"]])
def test_nan_inf_or_missing_values_fail_in_every_mode(tmp_path, capsys, where, value, mode):
    bad = changed(fid=value)
    base, cur = (BASE, bad) if where == "current" else (bad, BASE)
    code = main(["compare", write(tmp_path, "b", base), write(tmp_path, "c", cur), *mode])
    out = capsys.readouterr().out
    assert code == 1 and "❌ invalid" in out and "FAIL: fid invalid" in out


@pytest.mark.parametrize("doc", [{"metrics": 5}, {"run_id": "r", "n_images": 1, "n_prompts": 1, "metrics": 5,
                                                  "higher_is_better": {"fid": False}}, "not json at all"])
def test_malformed_metrics_files_exit_2_in_one_line(tmp_path, capsys, doc):
    path = tmp_path / "bad.json"
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    assert main(["compare", str(path), write(tmp_path, "c", BASE)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bad.json" in err


def test_update_baseline_keeps_the_old_one_when_the_write_fails(tmp_path, capsys, monkeypatch):
    base = tmp_path / "base.json"
    base.write_text(json.dumps(BASE))

    def disk_full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    assert main(["compare", str(base), write(tmp_path, "new", changed(fid=19.9)), "--update-baseline"]) == 2
    assert "no space left on the device" in capsys.readouterr().err
    assert json.loads(base.read_text()) == BASE  # untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["base.json", "new.json"]  # no temporary left
