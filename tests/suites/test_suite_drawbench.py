"""DrawBench: both published files give the same 200 prompts and 11 categories."""

from __future__ import annotations

from collections import Counter

import pytest

from evalkit.errors import UserError
from evalkit.suites import drawbench

COUNTS = {
    "Colors": 25, "Conflicting": 10, "Counting": 19, "DALL-E": 20, "Descriptions": 20,
    "Gary Marcus et al.": 10, "Misspellings": 10, "Positional": 20, "Rare Words": 7,
    "Reddit": 38, "Text": 21,
}


@pytest.fixture(scope="module")
def raw_file(shared_data):
    return shared_data / "raw" / "drawbench_original_sheet_export.csv"


@pytest.fixture(scope="module")
def prompts(shared_data):
    return drawbench.load(shared_data / "drawbench.csv")


def test_rows_categories_and_ids(prompts):
    assert len(prompts) == 200
    assert Counter(p.category for p in prompts) == COUNTS
    assert [p.id for p in prompts] == [f"drawbench-{i:03d}" for i in range(200)]
    assert prompts[0].text == "A red colored car." and prompts[0].category == "Colors"


def test_original_export_gives_identical_prompts(prompts, raw_file):
    raw = drawbench.load(raw_file)
    assert [(p.id, p.text, p.category) for p in raw] == [(p.id, p.text, p.category) for p in prompts]
    assert "Gary Marcus et al. " not in {p.category for p in raw}  # trailing space stripped
    assert raw[0].meta["source_sha256"] != prompts[0].meta["source_sha256"]


def test_prompt_text_is_byte_exact(prompts, shared_data):
    raw = (shared_data / "drawbench.csv").read_bytes()
    unquoted = [p for p in prompts if '"' not in p.text and "," not in p.text]
    assert len(unquoted) > 150
    assert all(f"{p.text},{p.category}".encode() in raw for p in unquoted)
    assert any("Schönhausen" in p.text for p in prompts)


def _write_crlf(path, lines):
    path.write_bytes("\r\n".join(lines).encode())
    return path


def test_truncated_file_is_refused(raw_file, tmp_path):
    lines = raw_file.read_bytes().decode("utf-8").split("\r\n")
    bad = _write_crlf(tmp_path / "short.csv", lines[:-1])
    with pytest.raises(UserError, match=r"short.csv has sha256 [0-9a-f]{64}, expected b6d99b31[0-9a-f]{56} or 8974e036"):
        drawbench.load(bad)  # not the published file: refused by its checksum first
    with pytest.raises(UserError, match="has 199 prompts, expected 200"):
        drawbench.load(bad, verify=False)  # a deliberately modified copy must still be whole


def test_changed_category_is_refused_naming_it(raw_file, tmp_path):
    lines = raw_file.read_bytes().decode("utf-8").split("\r\n")
    lines[1] = lines[1].replace(",Colors", ",Colours")
    with pytest.raises(UserError, match=r"'Colors': 24 \(expected 25\).*'Colours': 1 \(expected 0\)"):
        drawbench.load(_write_crlf(tmp_path / "edited.csv", lines), verify=False)


def test_wrong_header_and_missing_file_are_refused(tmp_path):
    with pytest.raises(UserError, match="missing Prompts"):
        drawbench.load(_write_crlf(tmp_path / "other.csv", ["prompt,Category", "a,Colors"]), verify=False)
    with pytest.raises(UserError, match="does not exist"):
        drawbench.load(tmp_path / "absent.csv")


def test_a_modified_copy_with_verify_off_is_its_own_suite(raw_file, tmp_path):
    """verify: false accepts a deliberately edited copy; its prompts differ, and so does every run key."""
    from evalkit.config import parse_spec
    from evalkit.runner.run import run_key

    lines = raw_file.read_bytes().decode("utf-8").split("\r\n")
    lines[1] = lines[1].replace("A red colored car.", "A red coloured car.")
    edited = _write_crlf(tmp_path / "edited.csv", lines)
    original, changed = drawbench.load(raw_file), drawbench.load(edited, verify=False)
    assert [p.id for p in changed] == [p.id for p in original] and changed[0].text != original[0].text
    spec = parse_spec({"name": "d", "suite": {"name": "drawbench", "path": str(edited), "verify": False},
                       "generator": {"name": "image_folder", "path": str(tmp_path)}})
    assert run_key(spec, original, {}) != run_key(spec, changed, {})
