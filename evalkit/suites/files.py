"""Prompts from any user file: CSV, TSV, JSONL (one object per line) or TXT (one prompt per line)."""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from evalkit.errors import UserError
from evalkit.options import Options
from evalkit.suites import source
from evalkit.suites.base import Suite
from evalkit.types import Prompt

TEXT_COLUMNS = ("prompt", "text", "caption", "Prompts", "Prompt")
CATEGORY_COLUMNS = ("category", "Category")
ID_COLUMN = "id"

Records = tuple[list[str], list[tuple[int, dict[str, Any]]]]


def load(
    path: str | os.PathLike[str],
    category_column: str | None = None,
    text_column: str | None = None,
    id_column: str | None = None,
    limit: int | None = None,
) -> list[Prompt]:
    """Prompts of `path` in file order; the format comes from the extension only.

    Columns default to the first present of TEXT_COLUMNS / CATEGORY_COLUMNS / ``id``;
    ids default to ``<file stem>-<zero-padded index>``. `limit` keeps the first prompts.
    Columns other than text/category/id go into each prompt's meta.
    """
    file = _existing_file(path)
    reader = _reader(file)
    if reader is _read_txt and (category_column or text_column or id_column):
        raise UserError(f"{file} is a .txt file with one prompt per line; it has no columns to choose")
    header, records = reader(file)
    if not records:
        raise UserError(f"{file} has no prompts; add some, one per line/row")
    columns = Columns(text_column, category_column, id_column)
    return prompts_from_records(file, source.sha256_file(file), (header, records), columns, limit)


@dataclass(frozen=True)
class Columns:
    """The columns the user chose (None: the first default present)."""

    text: str | None = None
    category: str | None = None
    id: str | None = None


def prompts_from_records(file: Path, sha: str, table: Records, columns: Columns, limit: int | None = None) -> list[Prompt]:
    """Prompts of a table's records, as every prompt file gives them; `file` names the table in
    messages and, with no id column, its stem prefixes the ids; `sha` is the source's checksum."""
    header, records = table
    layout = _Layout(
        file, sha, len(records),
        _column(file, header, columns.text, TEXT_COLUMNS, "text", required=True),
        _column(file, header, columns.category, CATEGORY_COLUMNS, "category", required=False),
        _column(file, header, columns.id, (ID_COLUMN,), "id", required=False),
    )
    prompts = [_prompt(layout, line, rec, i) for i, (line, rec) in enumerate(records)]
    if layout.id_col is not None:
        source.check_unique_ids(file, [(line, p.id) for (line, _), p in zip(records, prompts)])
    if limit is not None:
        source.check_limit(limit, len(prompts), f"prompts in {file}")
        prompts = prompts[:limit]
    return prompts


def _existing_file(path: str | os.PathLike[str]) -> Path:
    file = Path(path).expanduser()
    if not file.is_file():
        raise UserError(f"prompt file {file} does not exist; check path: in your spec")
    if file.stat().st_size == 0:
        raise UserError(f"prompt file {file} is empty; add prompts to it")
    return file


def _reader(file: Path) -> Callable[[Path], Records]:
    readers: dict[str, Callable[[Path], Records]] = {
        ".csv": source.read_table,
        # TSV is unquoted by convention (PartiPrompts starts a prompt with '"'), so no quote handling.
        ".tsv": lambda f: source.read_table(f, delimiter="\t", quoting=csv.QUOTE_NONE),
        ".jsonl": _read_jsonl,
        ".txt": _read_txt,
    }
    suffix = file.suffix.lower()
    if suffix not in readers:
        raise UserError(f"{file}: unknown prompt file type '{suffix}'; use .csv, .tsv, .jsonl or .txt")
    return readers[suffix]


def _read_jsonl(file: Path) -> Records:
    """One JSON object per non-blank line; the header is every key seen, in first-seen order."""
    header: dict[str, None] = {}
    records = []
    for line, raw in _lines(file):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise UserError(f"{file} line {line}: not valid JSON ({exc.msg}); write one object per line") from exc
        if not isinstance(obj, dict):
            raise UserError(
                f"{file} line {line}: expected a JSON object like {{\"prompt\": \"...\"}}, got {type(obj).__name__}"
            )
        header.update(dict.fromkeys(obj))
        records.append((line, obj))
    return list(header), records


def _read_txt(file: Path) -> Records:
    """One prompt per non-blank line, text kept exactly (line ending aside)."""
    records = [(line, {"text": raw.rstrip("\r\n")}) for line, raw in _lines(file) if raw.strip()]
    return ["text"], records


def _lines(file: Path) -> list[tuple[int, str]]:
    try:
        with file.open(encoding="utf-8-sig", newline="") as f:
            return list(enumerate(f, start=1))
    except UnicodeDecodeError as exc:
        raise UserError(f"{file} is not UTF-8 text ({exc.reason}); save it as UTF-8") from exc


def _column(
    file: Path, header: list[str], given: str | None, defaults: tuple[str, ...], what: str, required: bool
) -> str | None:
    """The column to use for `what`: the one given (must exist) or the first default present."""
    if given is not None:
        if given not in header:
            raise UserError(f"{file} has no {what} column '{given}'; its columns are {', '.join(header)}")
        return given
    found = next((c for c in defaults if c in header), None)
    if found is None and required:
        raise UserError(
            f"{file} has no prompt text column (looked for {', '.join(defaults)}); "
            f"its columns are {', '.join(header)} — pass text_column:"
        )
    return found


@dataclass(frozen=True)
class _Layout:
    """Which columns of which file hold what."""

    file: Path
    sha: str
    total: int
    text_col: str
    cat_col: str | None
    id_col: str | None


def _prompt(layout: _Layout, line: int, rec: dict[str, Any], index: int) -> Prompt:
    file, text_col, cat_col, id_col = layout.file, layout.text_col, layout.cat_col, layout.id_col
    text = rec.get(text_col)
    if not isinstance(text, str) or not text.strip():
        raise UserError(f"{file} line {line}: '{text_col}' must be non-empty text, got {text!r}")
    pid = source.index_id(file.stem, index, layout.total) if id_col is None else _id(file, line, rec, id_col)
    category = rec.get(cat_col) if cat_col is not None else None
    extra = {k: v for k, v in rec.items() if k not in (text_col, cat_col, id_col)}
    return Prompt(
        id=pid,
        text=text,
        category=None if category in (None, "") else str(category),
        meta=source.frozen({**extra, "source_sha256": layout.sha}),
    )


def _id(file: Path, line: int, rec: dict[str, Any], id_col: str) -> str:
    value = rec.get(id_col)
    if isinstance(value, bool) or not isinstance(value, (str, int)) or not str(value).strip():
        raise UserError(f"{file} line {line}: '{id_col}' must be a non-empty id, got {value!r}")
    return str(value)


class PromptFileOptions(Options):
    path: str
    category_column: str | None = None
    text_column: str | None = None
    id_column: str | None = None
    limit: int | None = None


class PromptFile(Suite):
    """Any CSV/TSV/JSONL/TXT file of prompts."""

    Options = PromptFileOptions

    def prompts(self) -> list[Prompt]:
        o = self.options
        return load(o.path, o.category_column, o.text_column, o.id_column, o.limit)
