"""The hf_dataset suite on local parquet / csv / json / imagefolder datasets, through the
same datasets.load_dataset call a hub dataset takes: the same prompts as the same rows given
as files (DrawBench and PartiPrompts from ../shared/data included), row and checksum checks."""

from __future__ import annotations

import csv

import pandas as pd
import pytest

from evalkit.errors import UserError
from evalkit.suites import drawbench, parti
from evalkit.suites.files import PromptFile
from evalkit.suites.hf_dataset import HFDataset

ROWS = [
    {"id": "a", "text": "A red cube.", "category": "Colors", "note": "x"},
    {"id": "b", "text": "Two dogs, one cat.", "category": "Counting", "note": "y"},
    {"id": "c", "text": 'A sign that reads "hi".', "category": "Text", "note": "z"},
]


def triples(prompts) -> list[tuple]:
    return [(p.id, p.text, p.category) for p in prompts]


@pytest.fixture
def dataset(tmp_path):
    def load(**options):
        return HFDataset.create(cache_dir=str(tmp_path / "datasets-cache"), **options).prompts()
    return load


@pytest.fixture
def tables(tmp_path):
    frame = pd.DataFrame(ROWS)
    frame.to_csv(tmp_path / "prompts.csv", index=False)
    frame.to_parquet(tmp_path / "prompts.parquet")
    frame.to_json(tmp_path / "prompts.jsonl", orient="records", lines=True)
    return tmp_path


@pytest.mark.parametrize("builder, name", [("parquet", "prompts.parquet"), ("csv", "prompts.csv"), ("json", "prompts.jsonl")])
def test_a_local_dataset_gives_the_prompts_of_the_same_file(tables, dataset, builder, name):
    from_file = PromptFile.create(path=str(tables / "prompts.csv")).prompts()
    got = dataset(path=builder, data_files=str(tables / name))
    assert triples(got) == triples(from_file) == [(r["id"], r["text"], r["category"]) for r in ROWS]
    assert [p.meta["note"] for p in got] == ["x", "y", "z"]


def test_default_ids_match_the_file_suites(tables, dataset):
    pd.DataFrame(ROWS).drop(columns="id").to_parquet(tables / "noid.parquet")
    pd.DataFrame(ROWS).drop(columns="id").to_csv(tables / "noid.csv", index=False)
    got = dataset(path="parquet", data_files=str(tables / "noid.parquet"))
    assert [p.id for p in got] == ["noid-0", "noid-1", "noid-2"]
    assert triples(got) == triples(PromptFile.create(path=str(tables / "noid.csv")).prompts())
    assert [p.id for p in dataset(path="parquet", data_files=str(tables / "noid.parquet"), id_prefix="mine")][0] == "mine-0"


def test_drawbench_and_parti_as_datasets_give_the_suites_prompts(shared_data, tmp_path, dataset):
    frame = pd.read_csv(shared_data / "drawbench.csv", dtype=str, keep_default_na=False)
    frame.to_parquet(tmp_path / "drawbench.parquet")  # the layout of DrawBench copies on the Hub: Prompts, Category
    got = dataset(path="parquet", data_files=str(tmp_path / "drawbench.parquet"), rows=200)
    assert triples(got) == triples(drawbench.load(path=shared_data / "drawbench.csv"))
    parti_frame = pd.read_csv(shared_data / "PartiPrompts.tsv", sep="\t", quoting=csv.QUOTE_NONE, dtype=str,
                              keep_default_na=False)
    parti_frame.to_parquet(tmp_path / "parti.parquet")  # nateraw/parti-prompts' columns: Prompt, Category, Challenge, Note
    got = dataset(path="parquet", data_files=str(tmp_path / "parti.parquet"), prompt_column="Prompt",
                  category_column="Category", id_prefix="parti", rows=1632)
    assert triples(got) == triples(parti.load(path=shared_data / "PartiPrompts.tsv"))
    assert got[0].meta["Challenge"] == parti.load(path=shared_data / "PartiPrompts.tsv")[0].meta["challenge"]


def test_the_row_count_and_the_rows_checksum_are_checked(tables, dataset):
    options = {"path": "parquet", "data_files": str(tables / "prompts.parquet")}
    sha = dataset(**options)[0].meta["source_sha256"]
    assert dataset(**options, rows=3, sha256=sha)[0].id == "a"
    with pytest.raises(UserError, match=r"has 3 rows, expected 4 \(rows:\)"):
        dataset(**options, rows=4)
    pd.DataFrame([*ROWS[:2], {**ROWS[2], "text": "edited"}]).to_parquet(tables / "prompts.parquet")
    with pytest.raises(UserError, match="the dataset changed") as err:
        dataset(**options, sha256=sha)
    assert "\n" not in str(err.value)


def test_an_imagefolder_with_captions_is_a_suite_without_its_images(tmp_path, dataset):
    from PIL import Image

    folder = tmp_path / "captioned"
    folder.mkdir()
    for i in range(3):
        Image.new("RGB", (8, 8), (i * 80, 0, 0)).save(folder / f"{i}.png")
    (folder / "metadata.csv").write_text("file_name,text\n0.png,a dark square\n1.png,a red square\n2.png,a bright square\n")
    got = dataset(path="imagefolder", data_dir=str(folder))
    assert triples(got) == [("captioned-0", "a dark square", None), ("captioned-1", "a red square", None),
                            ("captioned-2", "a bright square", None)]
    assert set(got[0].meta) == {"source_sha256"}  # the image column is not prompt metadata


@pytest.mark.parametrize("options, message", [
    ({"prompt_column": "caption_en"}, "has no text column 'caption_en'"),
    ({"split": "validation"}, "could not load it"),
    ({"data_files": "missing.parquet"}, "missing.parquet does not exist"),
])
def test_bad_options_are_one_line_errors(tables, dataset, options, message):
    with pytest.raises(UserError, match=message) as err:
        dataset(**{"path": "parquet", "data_files": str(tables / "prompts.parquet"), **options})
    assert "\n" not in str(err.value)


def test_parti_as_the_hub_lays_it_out_loses_one_prompts_quotes(shared_data, tmp_path, dataset):
    """nateraw/parti-prompts is a repo holding PartiPrompts.tsv; datasets reads it with its
    quote-aware csv loader, which strips the quotes the parti suite keeps (QUOTE_NONE)."""
    import shutil

    repo = tmp_path / "parti-prompts"
    repo.mkdir()
    shutil.copy(shared_data / "PartiPrompts.tsv", repo)
    got = dataset(path=str(repo), prompt_column="Prompt", category_column="Category", id_prefix="parti", rows=1632)
    published = parti.load(path=shared_data / "PartiPrompts.tsv")
    differ = [(a.id, a.text, b.text) for a, b in zip(got, published) if triples([a]) != triples([b])]
    assert [(pid, mine) for pid, mine, _ in differ] == [("parti-1560", published[1560].text.replace('"', ""))]
    assert published[1560].text.startswith('"G I G G L E"')


def test_a_spec_names_the_suite_and_its_dataset(tables, tmp_path):
    from evalkit.config import parse_spec

    spec = parse_spec({
        "name": "hf", "suite": {"name": "hf_dataset", "path": "parquet", "data_files": str(tables / "prompts.parquet"),
                                "cache_dir": str(tmp_path / "dc"), "rows": 3},
        "generator": {"name": "image_folder", "path": str(tmp_path)},
    })
    assert triples(spec.suite.build().prompts()) == [(r["id"], r["text"], r["category"]) for r in ROWS]
    assert spec.dump()["suite"]["path"] == "parquet"
    with pytest.raises(UserError, match="suite.spilt: unknown option; did you mean 'split'"):
        parse_spec({"name": "hf", "suite": {"name": "hf_dataset", "path": "x", "spilt": "test"},
                    "generator": {"name": "image_folder", "path": "x"}})
