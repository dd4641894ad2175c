"""The `file` suite: CSV, TSV, JSONL and TXT prompt files, and their error messages."""

from __future__ import annotations

import json

import pytest

from evalkit.errors import UserError
from evalkit.suites import files, parti


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_defaults_and_exact_text(tmp_path):
    f = _write(tmp_path / "mine.csv", 'text,category,seed\r\n"A cat, sitting. ",Animals,3\r\nA dog,,4\r\n')
    prompts = files.load(f)
    assert [(p.id, p.text, p.category) for p in prompts] == [
        ("mine-0", "A cat, sitting. ", "Animals"),
        ("mine-1", "A dog", None),
    ]
    assert prompts[0].meta["seed"] == "3" and len(prompts[0].meta["source_sha256"]) == 64


def test_text_column_priority_and_explicit_columns(tmp_path):
    f = _write(tmp_path / "p.csv", "caption,prompt,Category,kind,key\nc1,p1,C,k1,a\nc2,p2,C,k2,b\n")
    assert [p.text for p in files.load(f)] == ["p1", "p2"]
    chosen = files.load(f, text_column="caption", category_column="kind", id_column="key")
    assert [(p.id, p.text, p.category) for p in chosen] == [("a", "c1", "k1"), ("b", "c2", "k2")]
    assert chosen[0].meta["Category"] == "C" and "caption" not in chosen[0].meta


def test_default_ids_are_zero_padded(tmp_path):
    f = _write(tmp_path / "many.txt", "".join(f"prompt {i}\n" for i in range(12)))
    assert [p.id for p in files.load(f)][:2] == ["many-00", "many-01"]


def test_tsv_keeps_quotes_like_parti(tmp_path, shared_data):
    f = _write(tmp_path / "q.tsv", 'Prompt\tCategory\n"HELLO" on a wall\tText\n')
    [p] = files.load(f)
    assert (p.text, p.category) == ('"HELLO" on a wall', "Text")
    via_files = files.load(shared_data / "PartiPrompts.tsv")
    assert [p.text for p in via_files] == [p.text for p in parti.load(shared_data / "PartiPrompts.tsv")]
    assert via_files[0].meta["Challenge"] == "Basic"


def test_jsonl_with_ids_and_limit(tmp_path):
    rows = [{"id": "a", "prompt": "x", "category": "C"}, {"id": 7, "prompt": "y", "extra": [1]}]
    f = _write(tmp_path / "p.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n\n")
    prompts = files.load(f)
    assert [(p.id, p.text, p.category) for p in prompts] == [("a", "x", "C"), ("7", "y", None)]
    assert prompts[1].meta["extra"] == [1]
    assert [p.id for p in files.load(f, limit=1)] == ["a"]


def test_txt_one_prompt_per_nonblank_line(tmp_path):
    f = _write(tmp_path / "list.txt", "first prompt\r\n\n   \nsecond  \n")
    assert [(p.id, p.text, p.category) for p in files.load(f)] == [
        ("list-0", "first prompt", None),
        ("list-1", "second  ", None),
    ]


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("empty.csv", "", "is empty"),
        ("header_only.csv", "prompt,category\n", "has no prompts"),
        ("blank.txt", "\n\n", "has no prompts"),
        ("p.yaml", "- a\n", r"unknown prompt file type '\.yaml'"),
        ("nocol.csv", "title,category\nx,y\n", r"no prompt text column \(looked for prompt, text"),
        ("list.jsonl", '{"prompt": "ok"}\n["not", "an", "object"]\n', r"list\.jsonl line 2: expected a JSON object"),
        ("bad.jsonl", '{"prompt": "ok"}\n\n{"prompt": \n', r"bad\.jsonl line 3: not valid JSON"),
        ("dup.csv", "id,prompt\na,x\nb,y\na,z\n", r"dup\.csv line 4: id 'a' already used on line 2"),
        ("ragged.csv", "prompt,category\nx,y\nx,y,z\n", r"ragged\.csv line 3: 3 fields, expected 2"),
        ("emptytext.csv", "prompt,category\n,C\n", r"line 2: 'prompt' must be non-empty"),
        ("missing.jsonl", '{"prompt": "x"}\n{"text": "y"}\n', r"line 2: 'prompt' must be non-empty text, got None"),
    ],
)
def test_bad_files_are_refused_with_one_line(tmp_path, name, content, match):
    f = _write(tmp_path / name, content)
    with pytest.raises(UserError, match=match) as err:
        files.load(f)
    assert "\n" not in str(err.value) and str(f) in str(err.value)


def test_bad_arguments_are_refused(tmp_path):
    with pytest.raises(UserError, match=r"absent\.csv does not exist"):
        files.load(tmp_path / "absent.csv")
    f = _write(tmp_path / "p.csv", "prompt\nx\n")
    with pytest.raises(UserError, match="no category column 'cat'; its columns are prompt"):
        files.load(f, category_column="cat")
    with pytest.raises(UserError, match="limit 2 is more than the 1 prompts"):
        files.load(f, limit=2)
    with pytest.raises(UserError, match="no columns to choose"):
        files.load(_write(tmp_path / "p.txt", "x\n"), text_column="prompt")
