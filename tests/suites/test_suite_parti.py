"""PartiPrompts: 1632 rows, category/challenge counts, the leading-quote prompt, filters."""

from __future__ import annotations

from collections import Counter

import pytest

from evalkit.errors import UserError
from evalkit.suites import parti

CATEGORIES = {
    "Abstract": 51, "Animals": 314, "Artifacts": 287, "Arts": 66, "Food & Beverage": 74,
    "Illustrations": 124, "Indoor Scenes": 40, "Outdoor Scenes": 131, "People": 177,
    "Produce & Plants": 50, "Vehicles": 104, "World Knowledge": 214,
}
CHALLENGES = {
    "Basic": 272, "Complex": 113, "Fine-grained Detail": 312, "Imagination": 150,
    "Linguistic Structures": 61, "Perspective": 70, "Properties & Positioning": 35,
    "Quantity": 90, "Simple Detail": 232, "Style & Format": 206, "Writing & Symbols": 91,
}


@pytest.fixture(scope="module")
def tsv(shared_data):
    return shared_data / "PartiPrompts.tsv"


@pytest.fixture(scope="module")
def prompts(tsv):
    return parti.load(tsv)


def test_rows_counts_and_ids(prompts):
    assert len(prompts) == 1632
    assert Counter(p.category for p in prompts) == CATEGORIES
    assert Counter(p.meta["challenge"] for p in prompts) == CHALLENGES
    assert [p.id for p in prompts] == [f"parti-{i:04d}" for i in range(1632)]
    first = prompts[0]
    assert (first.text, first.category, dict(first.meta)["note"]) == (
        "bond", "Abstract", "Biology-inspired concepts with multiple meanings"
    )


def test_leading_double_quote_is_kept(prompts):
    giggle = [p for p in prompts if "G I G G L E" in p.text]
    assert len(giggle) == 1
    assert giggle[0].text.startswith('"G I G G L E" painted in thick colorful lettering')
    assert giggle[0].meta["challenge"] == "Writing & Symbols"


def test_filters_keep_ids(tsv, prompts):
    by_id = {p.id: p for p in prompts}
    arts = parti.load(tsv, category="Arts")
    assert len(arts) == 66 and all(by_id[p.id] == p for p in arts)
    two = parti.load(tsv, category=["Arts", "Abstract"], challenge="Basic")
    expected = [p for p in prompts if p.category in {"Arts", "Abstract"} and p.meta["challenge"] == "Basic"]
    assert two == expected and len(two) > 0
    assert len(parti.load(tsv, challenge=["Quantity", "Perspective"])) == 160


def test_unknown_or_empty_filter_is_refused(tsv):
    with pytest.raises(UserError, match="did you mean 'Animals'"):
        parti.load(tsv, category="Animal")
    with pytest.raises(UserError, match="empty Parti challenge filter"):
        parti.load(tsv, challenge=[])


def test_modified_file_is_refused_even_when_filtering(tsv, tmp_path):
    lines = tsv.read_text(encoding="utf-8").splitlines(keepends=True)
    short = tmp_path / "short.tsv"
    short.write_text("".join(lines[:-1]), encoding="utf-8")
    with pytest.raises(UserError, match="expected fab29e41bb512a169b56acab4cf2a41dcb675e285df2efcde6640c7dd3c440eb"):
        parti.load(short, category="Arts")
    with pytest.raises(UserError, match="1631 prompts, expected 1632"):
        parti.load(short, category="Arts", verify=False)
