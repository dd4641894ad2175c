"""Structured results: an `Estimate` per number, a `MetricResult` per metric, `RunResults`
per run, and the one JSON form of them (metrics.json, schema version 2).

Everything downstream — the CLI summary, `compare`, the reports, plots and sweep tables —
reads these objects; no one parses key strings. Version-1 files (flat keys such as
`kid/mean` and `clip_score/Colors/ci95_low`) are converted on load.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping

SCHEMA_VERSION = 2


def _num(value: Any) -> float | None:
    return None if value is None else float(value)


@dataclass(frozen=True)
class Estimate:
    """A number with its uncertainty: 95% CI bounds and/or a standard deviation, and its N."""

    value: float
    low: float | None = None
    high: float | None = None
    std: float | None = None
    n: int | None = None

    @property
    def half_width(self) -> float | None:
        """Half the 95% CI, else the std: the noise scale `compare` uses."""
        if self.low is not None and self.high is not None:
            return (self.high - self.low) / 2
        return self.std

    @property
    def finite(self) -> bool:
        return self.value is not None and math.isfinite(self.value)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"value": _json_float(self.value)}
        for key in ("low", "high", "std", "n"):
            if getattr(self, key) is not None:
                out[key] = _json_float(getattr(self, key))
        return out

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> "Estimate":
        n = doc.get("n")
        return cls(_num(doc.get("value")), _num(doc.get("low")), _num(doc.get("high")), _num(doc.get("std")),
                   None if n is None else int(n))


def _json_float(x: Any) -> Any:
    """NaN and infinities are not JSON: written as strings so they survive a round trip."""
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    return x


@dataclass(frozen=True)
class MetricResult:
    """What one metric reports: its values (the first is the headline), per-category
    estimates, provenance and warnings. `per_sample` (a DataFrame) is stored beside, not in JSON."""

    name: str
    higher_is_better: bool
    values: Mapping[str, Estimate]
    categories: Mapping[str, Mapping[str, Estimate]] = field(default_factory=dict)
    provenance: Mapping[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    per_sample: Any = None

    @property
    def headline(self) -> tuple[str, ...]:
        """The keys `compare` gates on and summaries show: every value the metric reports."""
        return tuple(self.values)

    def to_json(self) -> dict[str, Any]:
        return {
            "higher_is_better": self.higher_is_better,
            "values": {k: e.to_json() for k, e in self.values.items()},
            "categories": {k: {c: e.to_json() for c, e in cats.items()} for k, cats in self.categories.items()},
            "provenance": dict(self.provenance),
            "warnings": list(self.warnings),
        }

    @classmethod
    def from_json(cls, name: str, doc: Mapping[str, Any]) -> "MetricResult":
        return cls(
            name, bool(doc["higher_is_better"]),
            {k: Estimate.from_json(e) for k, e in doc["values"].items()},
            {k: {c: Estimate.from_json(e) for c, e in cats.items()} for k, cats in doc.get("categories", {}).items()},
            dict(doc.get("provenance", {})), tuple(doc.get("warnings", [])),
        )


@dataclass(frozen=True)
class RunResults:
    run_id: str
    n_images: int
    n_prompts: int
    metrics: Mapping[str, MetricResult]
    notes: tuple[str, ...] = ()  # run-level warnings (e.g. prompts the generator truncated)

    @property
    def warnings(self) -> list[str]:
        return list(self.notes) + [w for m in self.metrics.values() for w in m.warnings]

    def estimates(self) -> Iterator[tuple[MetricResult, str, Estimate]]:
        """(metric, value key, estimate) for every headline value, in order."""
        for metric in self.metrics.values():
            for key, estimate in metric.values.items():
                yield metric, key, estimate

    def estimates_by_key(self) -> dict[str, Estimate]:
        return {key: e for _, key, e in self.estimates()}

    def flat(self) -> dict[str, float | None]:
        """One row of a results table: each value and its CI bounds / std as columns."""
        row: dict[str, float | None] = {}
        for _, key, e in self.estimates():
            row[key] = e.value
            for part in ("low", "high", "std"):
                if getattr(e, part) is not None:
                    row[f"{key}/{part}"] = getattr(e, part)
        return row

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION, "run_id": self.run_id, "n_images": self.n_images,
            "n_prompts": self.n_prompts, "metrics": {name: m.to_json() for name, m in self.metrics.items()},
            "notes": list(self.notes), "warnings": self.warnings,
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> "RunResults":
        """Either schema: version 2 as written by to_json, or version 1's flat keys."""
        if doc.get("schema_version") == SCHEMA_VERSION:
            metrics = {name: MetricResult.from_json(name, m) for name, m in doc["metrics"].items()}
            notes = tuple(doc.get("notes", []))
        else:
            metrics, notes = metrics_from_v1(doc), tuple(doc.get("warnings", []))
        return cls(str(doc["run_id"]), int(doc["n_images"]), int(doc["n_prompts"]), metrics, notes)


_PARTS = {"ci95_low": "low", "ci95_high": "high", "std": "std"}


def _v1_estimates(flat: Mapping[str, float], name: str) -> tuple[dict, dict]:
    """A version-1 metric's flat keys -> (values, categories) as plain dicts of Estimate fields."""
    values: dict[str, dict] = {}
    categories: dict[str, dict] = {}
    for key, number in flat.items():
        parts = key.split("/")
        if parts[0] != name:
            continue
        rest = parts[1:]
        field_name = _PARTS.get(rest[-1]) if rest else None
        head = rest[:-1] if field_name else rest
        if head in ([], ["mean"]):
            values.setdefault(name, {})[field_name or "value"] = number
        else:
            categories.setdefault(name, {}).setdefault("/".join(head), {})[field_name or "value"] = number
    return values, categories


def metrics_from_v1(doc: Mapping[str, Any]) -> dict[str, MetricResult]:
    """Version-1 metrics.json (flat `metrics`, `higher_is_better`, `provenance`) -> MetricResults."""
    out = {}
    for name, higher in doc.get("higher_is_better", {}).items():
        values, categories = _v1_estimates(doc["metrics"], name)
        out[name] = MetricResult(
            name, bool(higher), {k: Estimate.from_json(v) for k, v in values.items()},
            {k: {c: Estimate.from_json(e) for c, e in cats.items()} for k, cats in categories.items()},
            dict(doc.get("provenance", {}).get(name, {})),
        )
    return out
