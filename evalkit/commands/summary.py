"""Printing results: the one text form of RunResults (run, score, clip-score) and JSON."""

from __future__ import annotations

import json

from evalkit.reports.render import ci, fmt
from evalkit.results import RunResults


def print_results(results: RunResults, as_json: bool = False, extra: dict | None = None) -> None:
    if as_json:
        print(json.dumps({**results.to_json(), **(extra or {})}, indent=2, sort_keys=True, default=str))
        return
    for metric, key, e in results.estimates():
        n = f"  N={e.n}" if e.n is not None else ""
        print(f"  {key:<20} {fmt(e.value)}  {ci(e)}{n}")
    for warning in results.warnings:
        print(f"  warning: {warning}")
