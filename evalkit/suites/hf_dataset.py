"""Prompts and reference images from Hugging Face `datasets`, from the Hub or local files.

Both go through one call, `datasets.load_dataset(name, config, split=..., revision=...,
data_files=..., data_dir=...)`, so a dataset on the Hub (`nateraw/parti-prompts`, a COCO
val2014 mirror) and the same rows as local files (`path: parquet, data_files: x.parquet`,
`path: imagefolder, data_dir: DIR`) take the same road; `datasets` caches what it
downloads (HF_DATASETS_CACHE, or `cache_dir`).

- The `hf_dataset` suite maps columns to prompt text / category / id exactly as a prompt
  file's columns are mapped (evalkit.suites.files), checks the row count and, when given,
  the sha256 of the resolved rows, so a dataset that changed under its name is refused.
- `reference: {dataset: {...}}` reads an image column for FID/KID: each image's bytes are
  hashed, so its features share the FeatureCache with the same file given in a folder.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any, Iterable

from pydantic import Field

from evalkit.errors import UserError
from evalkit.options import Options
from evalkit.suites.base import Suite
from evalkit.suites.files import Columns, prompts_from_records
from evalkit.types import Prompt

SUITE = "hf_dataset"
BUILDERS = ("parquet", "csv", "json", "text", "arrow", "imagefolder")  # datasets' packaged loaders


class DatasetSource(Options):
    """Which dataset split to load, as datasets.load_dataset takes it."""

    # load_dataset's `path`: a hub id, a local dataset folder, or a builder (parquet, csv, json, imagefolder)
    path: str = Field(min_length=1)
    config: str | None = None  # the dataset's configuration (subset)
    split: str = "train"
    revision: str | None = None  # hub: a tag, branch or commit; pin it for reproducible runs
    data_files: str | list[str] | None = None  # a builder's input files
    data_dir: str | None = None  # e.g. the folder of an imagefolder dataset
    cache_dir: str | None = None  # datasets' cache (default: HF_DATASETS_CACHE)

    @property
    def label(self) -> str:
        return f"{self.path}[{self.split}]"


def digest(lines: Iterable[str]) -> str:
    """sha256 over newline-terminated lines: the checksum of resolved rows."""
    h = hashlib.sha256()
    for line in lines:
        h.update(line.encode("utf-8") + b"\n")
    return h.hexdigest()


def check_local(src: DatasetSource, where: str) -> None:
    """Local inputs exist: checked before the first image, not after the last."""
    files = [src.data_files] if isinstance(src.data_files, str) else list(src.data_files or [])
    for path in files + ([src.data_dir] if src.data_dir else []):
        if "://" not in path and "*" not in path and not Path(path).expanduser().exists():
            raise UserError(f"{where}: {path} does not exist (data_files / data_dir of dataset {src.label})")


def _datasets():
    try:
        import datasets
    except ModuleNotFoundError:
        raise UserError("Hugging Face datasets need the datasets package: pip install 'evalkit[datasets]'") from None
    return datasets


def load_split(src: DatasetSource):
    """The datasets.Dataset of the split, or one line saying why it cannot be loaded."""
    datasets = _datasets()
    datasets.logging.set_verbosity_error()
    datasets.disable_progress_bars()
    given = {"revision": src.revision, "data_files": src.data_files, "data_dir": src.data_dir, "cache_dir": src.cache_dir}
    kwargs = {k: v for k, v in given.items() if v is not None}
    try:
        return datasets.load_dataset(src.path, src.config, split=src.split, **kwargs)
    except (OSError, ValueError, datasets.exceptions.DatasetsError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise UserError(f"dataset {src.label}: could not load it: {first[:240]} (offline? load it once online, "
                        "datasets caches it, or give local files: path: parquet, data_files: FILE)") from None


def _scalar_columns(ds) -> list[str]:
    datasets = _datasets()
    return [c for c, f in ds.features.items() if isinstance(f, datasets.Value)]


class HFDatasetOptions(DatasetSource):
    prompt_column: str | None = None  # default: the first of prompt, text, caption, Prompts, Prompt
    category_column: str | None = None  # default: category or Category, when present
    id_column: str | None = None  # default: ids <id_prefix>-<row index>
    id_prefix: str | None = None  # default: the dataset's name (or its first data file's / data_dir's)
    rows: int | None = Field(None, ge=1)  # the number of rows the split must have
    sha256: str | None = Field(None, pattern=r"^[0-9a-f]{64}$")  # checksum of the resolved rows
    limit: int | None = Field(None, ge=1)  # keep the first prompts


def _table_name(o: HFDatasetOptions) -> Path:
    """What names the rows in messages; its stem prefixes default ids (prompts.parquet -> prompts-0)."""
    if o.id_prefix:
        return Path(o.id_prefix)
    files = [o.data_files] if isinstance(o.data_files, str) else list(o.data_files or [])
    local = files + [o.data_dir] if o.data_dir else files
    return Path(local[0]) if o.path in BUILDERS and local else Path(o.path)


def load_prompts(o: HFDatasetOptions) -> list[Prompt]:
    """The split's prompts, after its row count and (given) row checksum are checked."""
    ds = load_split(o)
    columns = _scalar_columns(ds)
    rows = ds.select_columns(columns).to_list()
    if o.rows is not None and len(rows) != o.rows:
        raise UserError(f"dataset {o.label} has {len(rows)} rows, expected {o.rows} (rows:); pin revision: "
                        "to the version you checked, or update rows:")
    sha = digest(json.dumps(row, sort_keys=True, ensure_ascii=False, default=str) for row in rows)
    if o.sha256 is not None and sha != o.sha256:
        raise UserError(f"dataset {o.label} resolves to rows with sha256 {sha}, expected {o.sha256} (sha256:); "
                        "the dataset changed: pin revision: or update sha256:")
    table = (columns, [(i + 1, row) for i, row in enumerate(rows)])  # "line" = row number, for messages
    return prompts_from_records(_table_name(o), sha, table, Columns(o.prompt_column, o.category_column, o.id_column),
                                o.limit)


class HFDataset(Suite):
    """Prompts from a Hugging Face dataset split (hub or local parquet/csv/json), columns mapped."""

    Options = HFDatasetOptions

    def prompts(self) -> list[Prompt]:
        check_local(self.options, "suite")
        return load_prompts(self.options)


# --- reference images ---------------------------------------------------------------------


class DatasetImages(DatasetSource):
    """`reference: {dataset: {...}}`: real images from an image column."""

    image_column: str = "image"
    limit: int | None = Field(None, ge=1)  # a seed-chosen subset of this many rows (e.g. 30000)
    seed: int = 0


class NamedImage(io.BytesIO):
    """An image's bytes that read as a file and print as the row they come from."""

    def __init__(self, data: bytes, name: str):
        super().__init__(data)
        self.name = name

    def __str__(self) -> str:
        return self.name


class ImageRows:
    """The chosen rows' images, read one at a time (a sequence for the feature extraction)."""

    def __init__(self, spec: DatasetImages, ds, index: list[int]):
        self.spec, self.ds, self.index = spec, ds, index

    def __len__(self) -> int:
        return len(self.index)

    def _bytes(self, cell: dict) -> bytes:
        return cell["bytes"] if cell.get("bytes") is not None else Path(cell["path"]).read_bytes()

    def __getitem__(self, i: int) -> NamedImage:
        row = self.index[i]
        return NamedImage(self._bytes(self.ds[row][self.spec.image_column]), f"dataset {self.spec.label} row {row}")

    def shas(self) -> list[str]:
        """sha256 of each image's bytes: the same key as the same file's in a folder."""
        column, out = self.spec.image_column, []
        picked = self.ds.select(self.index) if len(self.index) != len(self.ds) else self.ds
        for batch in picked.iter(batch_size=256):
            out.extend(hashlib.sha256(self._bytes(cell)).hexdigest() for cell in batch[column])
        return out

    def provenance(self, shas: list[str]) -> dict[str, Any]:
        s = self.spec
        return {
            "reference": f"dataset {s.label}", "reference_n": len(shas),
            "reference_files_sha256": digest(f"{row}\0{sha}" for row, sha in zip(self.index, shas)),
            "reference_dataset": {"path": s.path, "config": s.config, "revision": s.revision or "main", "split": s.split,
                                  "data_files": s.data_files, "data_dir": s.data_dir, "image_column": s.image_column,
                                  "limit": s.limit, "seed": s.seed},
        }


def _is_image(feature) -> bool:
    """An Image feature, or the {bytes, path} struct it is stored as (a parquet written without datasets)."""
    datasets = _datasets()
    return isinstance(feature, datasets.Image) or (isinstance(feature, dict) and set(feature) == {"bytes", "path"})


def image_rows(spec: DatasetImages) -> ImageRows:
    """The reference images of a dataset split (limit: a seed-chosen subset, in row order)."""
    from evalkit.suites.coco import subsample

    datasets = _datasets()
    ds = load_split(spec)
    if not _is_image(ds.features.get(spec.image_column)):
        images = [c for c, f in ds.features.items() if _is_image(f)]
        raise UserError(f"reference.dataset: {spec.label} has no image column '{spec.image_column}'; "
                        f"its image columns: {', '.join(images) or 'none'} (set image_column:)")
    ds = ds.select_columns([spec.image_column]).cast_column(spec.image_column, datasets.Image(decode=False))
    n = len(ds)
    index = list(range(n)) if spec.limit is None else subsample(n, spec.limit, spec.seed, f"rows of {spec.label}")
    return ImageRows(spec, ds, index)
