"""Read the run directories a study compares: run id, and per prompt its caption,
category and image files (from samples.parquet)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from evalkit.errors import UserError


@dataclass(frozen=True)
class PromptImages:
    prompt_id: str
    caption: str
    category: str
    images: tuple[str, ...]  # absolute paths, in image-index order


@dataclass
class RunImages:
    run_id: str
    path: Path
    prompts: dict[str, PromptImages] = field(default_factory=dict)


def _run_id(run_dir: Path) -> str:
    import yaml

    spec = run_dir / "spec.yaml"
    if spec.is_file():
        data = yaml.safe_load(spec.read_text(encoding="utf-8"))
        if isinstance(data, dict) and data.get("run_id"):
            return str(data["run_id"])
    return run_dir.name  # a run made elsewhere: its folder name is its id


def load_run(path: str | Path) -> RunImages:
    """A run directory's images grouped by prompt; a UserError if it is not a finished run."""
    import pandas as pd

    run_dir = Path(path).resolve()
    samples_path = run_dir / "samples.parquet"
    if not samples_path.is_file():
        raise UserError(f"{path} is not a finished run directory (no samples.parquet); pass folders made by `evalkit run`")
    samples = pd.read_parquet(samples_path)
    missing = {"prompt_id", "index", "text", "path"} - set(samples.columns)
    if missing:
        raise UserError(f"{samples_path} lacks columns {sorted(missing)}; re-run `evalkit run` to rewrite it")
    run = RunImages(_run_id(run_dir), run_dir)
    if "category" not in samples.columns:
        samples["category"] = None
    for prompt_id, rows in samples.sort_values(["prompt_id", "index"]).groupby("prompt_id", sort=False):
        files = tuple(str(run_dir / p) for p in rows["path"])
        for f in files:
            if not Path(f).is_file():
                raise UserError(f"image {f} listed in {samples_path} is missing; re-run `evalkit run` to remake it")
        if "sha256" in rows.columns:
            _check_hashes(files, list(rows["sha256"]), samples_path)
        category = rows["category"].iloc[0]
        run.prompts[str(prompt_id)] = PromptImages(
            str(prompt_id), str(rows["text"].iloc[0]),
            "(no category)" if category is None or category != category else str(category), files,
        )
    if not run.prompts:
        raise UserError(f"{samples_path} has no images; run the benchmark first")
    return run


def _check_hashes(files: tuple[str, ...], recorded: list, samples_path: Path) -> None:
    """Raters must see the images the metrics scored: a file edited or corrupted since
    the run is refused, never shown."""
    from evalkit.fingerprint import file_hashes

    for f, want, got in zip(files, recorded, file_hashes([Path(f) for f in files])):
        if isinstance(want, str) and want and want != got:  # rows without a recorded hash (None/NaN) pass
            raise UserError(
                f"image {f} does not match the sha256 in {samples_path} (expected {want[:12]}…, got {got[:12]}…); "
                "re-run `evalkit run` on its spec to remake it"
            )


def load_runs(paths: list[str | Path]) -> list[RunImages]:
    """Every run, checking there are at least two with distinct ids."""
    if len(paths) < 2:
        raise UserError("a study compares at least two runs; pass --runs RUN_A RUN_B [RUN_C ...]")
    runs = [load_run(p) for p in paths]
    ids = [r.run_id for r in runs]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise UserError(f"run {dupes[0]} is given twice; each --runs entry must be a different run")
    return runs
