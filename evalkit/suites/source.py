"""Shared machinery for suites built on public data files.

A manifest (``manifests/<name>.yaml``, package data) pins where a file comes from, the
checksums we accept and the row/category counts it must have. `resolve_data_file`
finds a copy (user path, $EVALKIT_DATA_DIR, or a download into the cache) and checks
it against the accepted checksums; the `read_table`/`check_*` helpers let each suite
verify its structure.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from types import MappingProxyType
from typing import Any, Iterable, Mapping

import yaml

from evalkit.cache import cache_root
from evalkit.errors import UserError
from evalkit.options import Options
from evalkit.store import sha256_file

DOWNLOAD_TIMEOUT_S = 60
_CHUNK = 1 << 20


MANIFESTS = "manifests"  # package data of evalkit.suites: <suite>.yaml and smoke.csv


def manifest_file(name: str) -> Path:
    """A file shipped in evalkit/suites/manifests/ (read through importlib.resources, so a
    wheel install finds it as well as a source checkout)."""
    from importlib.resources import files

    path = Path(str(files("evalkit.suites").joinpath(MANIFESTS, name)))
    if not path.is_file():
        raise UserError(f"suite file {path} is missing from the evalkit installation; reinstall evalkit")
    return path


def load_manifest(name: str) -> dict[str, Any]:
    """Read ``manifests/<name>.yaml``."""
    with manifest_file(f"{name}.yaml").open(encoding="utf-8") as f:
        return yaml.safe_load(f)


def resolve_data_file(
    manifest: Mapping[str, Any],
    path: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    verify: bool = True,
) -> Path:
    """Find the data file: explicit `path`, then $EVALKIT_DATA_DIR, then the cache (downloading).

    Wherever the copy comes from it must match one of the manifest's checksums, unless
    `verify` is False (a deliberately modified copy: its prompts then differ from the
    published suite's, and so does every run key made from them).
    """
    name = manifest["filename"]
    if path is not None:
        given = Path(path).expanduser()
        if not given.is_file():
            raise UserError(
                f"data file {given} does not exist; pass path: pointing at a copy of {name} "
                "or leave path: out to download it"
            )
        return verified(given, manifest, verify)
    data_dir = os.environ.get("EVALKIT_DATA_DIR")
    if data_dir:
        local = Path(data_dir).expanduser() / manifest["local_name"]
        if local.is_file():
            return verified(local, manifest, verify)
    cached = cache_root(cache_dir) / "data" / name
    if cached.is_file():
        return verified(cached, manifest, verify)
    _download(manifest, cached)
    return cached


def _accepted(manifest: Mapping[str, Any]) -> list[str]:
    sums = manifest["sha256"]
    return [sums] if isinstance(sums, str) else list(sums)


def _short(digest: str) -> str:
    return f"{digest[:12]}…"


def _expected(manifest: Mapping[str, Any]) -> str:
    return " or ".join(_short(s) for s in _accepted(manifest))


def verified(file: Path, manifest: Mapping[str, Any], verify: bool = True) -> Path:
    """`file`, if its sha256 is one the manifest accepts (or `verify` is off)."""
    # Never delete here: the user may have put the file there on purpose.
    if not verify:
        return file
    got = sha256_file(file)
    if got not in _accepted(manifest):
        raise UserError(
            f"{file} has sha256 {got}, expected {' or '.join(_accepted(manifest))} "
            f"(the published {manifest['filename']}); use an unmodified copy, or set verify: false "
            "in the suite options for a deliberately modified one"
        )
    return file


def _download(manifest: Mapping[str, Any], dest: Path) -> None:
    """Download to a temp file next to `dest`, verify, then rename into place atomically."""
    url, name = manifest["url"], manifest["filename"]
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{name}.", suffix=".part")
    except OSError as exc:
        raise UserError(
            f"cannot write to the cache {dest.parent} ({exc}); set EVALKIT_CACHE to a writable folder "
            "or pass path: to a local copy"
        ) from exc
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as resp:
            for chunk in iter(lambda: resp.read(_CHUNK), b""):
                digest.update(chunk)
                out.write(chunk)
        got = digest.hexdigest()
        if got not in _accepted(manifest):
            raise UserError(
                f"checksum mismatch for {name} downloaded from {url}: got {_short(got)}, "
                f"expected {_expected(manifest)}; the source changed or the download is corrupt "
                "— pass path: to a verified local copy"
            )
        os.replace(tmp, dest)
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
        raise UserError(
            f"could not download {name} from {url} ({exc}); offline, pass path: to a local copy "
            "or set EVALKIT_DATA_DIR to a folder holding it"
        ) from exc
    finally:
        tmp.unlink(missing_ok=True)


# --- reading and verifying tables -------------------------------------------------------


def read_table(
    path: Path, delimiter: str = ",", quoting: int = csv.QUOTE_MINIMAL
) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Header and rows of a CSV/TSV as (first line number, {column: value}); blank rows skipped.

    Uses the csv module so quoted fields with embedded newlines (COCO) parse; text is
    returned exactly as the csv module gives it. CRLF and LF both work.
    """
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f, delimiter=delimiter, quoting=quoting)
            header = next(reader, None)
            if header is None:
                raise UserError(f"{path} is empty; expected a header line and prompts")
            rows, start = [], reader.line_num + 1
            for row in reader:
                if row:
                    if len(row) != len(header):
                        raise UserError(
                            f"{path} line {start}: {len(row)} fields, expected {len(header)} "
                            f"({', '.join(header)}); fix the row or quote fields that contain "
                            f"'{delimiter}'"
                        )
                    rows.append((start, dict(zip(header, row))))
                start = reader.line_num + 1
    except UnicodeDecodeError as exc:
        raise UserError(f"{path} is not UTF-8 text ({exc.reason}); save it as UTF-8") from exc
    except csv.Error as exc:
        raise UserError(f"{path} is not valid CSV ({exc}); check its quoting") from exc
    return header, rows


def require_columns(path: Path, header: Iterable[str], required: Iterable[str], what: str) -> None:
    """Raise unless every `required` column is in `header`."""
    missing = [c for c in required if c not in header]
    if missing:
        raise UserError(
            f"{path} has columns {', '.join(header)}, missing {', '.join(missing)}; "
            f"is it really {what}? pass path: to the right file"
        )


def check_rows(path: Path, got: int, expected: int, what: str) -> None:
    """Raise if the file has the wrong number of rows (truncated, edited or another file)."""
    if got != expected:
        raise UserError(
            f"{path} has {got} prompts, expected {expected} for {what}; "
            "the file is truncated or modified — pass path: to an unmodified copy"
        )


def check_counts(path: Path, got: Counter[str], expected: Mapping[str, int], what: str) -> None:
    """Raise naming every `what` value (e.g. category) whose count differs from `expected`."""
    diffs = [
        f"{key!r}: {got.get(key, 0)} (expected {expected.get(key, 0)})"
        for key in sorted(set(got) | set(expected))
        if got.get(key, 0) != expected.get(key, 0)
    ]
    if diffs:
        raise UserError(
            f"{path} has unexpected {what} counts: {'; '.join(diffs)}; "
            "the file is modified or not the published version — pass path: to an unmodified copy"
        )


def check_choice(value: str, choices: Iterable[str], what: str) -> None:
    """Raise with a did-you-mean if `value` is not one of `choices`."""
    choices = sorted(choices)
    if value not in choices:
        close = difflib.get_close_matches(value, choices, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"choose one of: {', '.join(choices)}"
        raise UserError(f"unknown {what} '{value}': {hint}")


def check_unique_ids(path: Path, ids: Iterable[tuple[int, str]]) -> None:
    """Raise on the first id seen twice; `ids` are (line number, id) pairs."""
    first_line: dict[str, int] = {}
    for line, pid in ids:
        if pid in first_line:
            raise UserError(
                f"{path} line {line}: id {pid!r} already used on line {first_line[pid]}; ids must be unique"
            )
        first_line[pid] = line


def check_limit(limit: Any, n: int, what: str) -> None:
    """Raise unless `limit` is a whole number in 1..n."""
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise UserError(f"limit must be a positive whole number, got {limit!r}")
    if limit > n:
        raise UserError(f"limit {limit} is more than the {n} {what}; use limit: {n} or less")


def frozen(meta: Mapping[str, Any]) -> Mapping[str, Any]:
    """Read-only meta mapping, matching Prompt's default."""
    return MappingProxyType(dict(meta))


def index_id(prefix: str, index: int, total: int) -> str:
    """`<prefix>-<index>` zero-padded to the width of `total` (200 -> 000..199)."""
    return f"{prefix}-{index:0{len(str(total))}d}"


class PublicSuiteOptions(Options):
    """Where a public suite's data file is, and whether it must be the published version."""

    path: str | None = None  # a local copy; else $EVALKIT_DATA_DIR, else the cache (downloaded)
    cache_dir: str | None = None
    verify: bool = True  # false: accept a deliberately modified copy (its runs get their own keys)
