"""Per-stage settings: defaults, overrides, templates and one-line errors."""

from __future__ import annotations

import pytest

from evalkit.errors import UserError
from evalkit.generators.cascade.stages import parse_stages, stage_text

KEYS = ("guidance", "steps", "prompt", "aug_level")
DEFAULTS = [{"guidance": None, "steps": None, "prompt": None, "aug_level": 0.0}] * 2


def test_missing_entries_take_defaults():
    stages = parse_stages([{"guidance": 7}], 2, KEYS, DEFAULTS, "g")
    assert stages == [{"guidance": 7, "steps": None, "prompt": None, "aug_level": 0.0}, DEFAULTS[1]]


def test_prompt_template():
    assert stage_text("An oil painting of {prompt}", "a corgi") == "An oil painting of a corgi"
    assert stage_text(None, "a corgi") == "a corgi"
    assert stage_text("{prompt} {with braces}", "x") == "x {with braces}"


@pytest.mark.parametrize(
    "stages, message",
    [
        ({"guidance": 1}, "must be a list"),
        ([{}, {}, {}], "has 3 entries but the cascade has 2"),
        ([{"guidnce": 3}], "has no setting 'guidnce'"),
        ([{"steps": 0}], r"stages\[0\].steps must be an integer >= 1"),
        ([{}, {"aug_level": 1.0}], r"stages\[1\].aug_level must be a number in \[0, 1\)"),
        ([{"prompt": "A photo of a dog"}], "must be a text containing {prompt}"),
        (["fast"], "must be a mapping"),
    ],
)
def test_errors(stages, message):
    with pytest.raises(UserError, match=message):
        parse_stages(stages, 2, KEYS, DEFAULTS, "g")
