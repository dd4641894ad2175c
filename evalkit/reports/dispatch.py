"""Re-render the report of a folder: a sweep directory (sweep.yaml) or a run directory (spec.yaml)."""

from __future__ import annotations

from pathlib import Path

from evalkit.errors import UserError


def render_report(path: str | Path) -> Path:
    """The folder's report.html, rendered again from what its stages wrote."""
    path = Path(path)
    if (path / "sweep.yaml").is_file():
        from evalkit.reports.sweep_report import render_sweep_report

        return render_sweep_report(path)
    if (path / "spec.yaml").is_file():
        from evalkit.reports.run_report import render_run_report

        return render_run_report(path)[0]
    raise UserError(f"{path} is neither a run directory (spec.yaml, metrics.json) nor a sweep directory (sweep.yaml)")
