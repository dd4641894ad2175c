"""Matplotlib figures for reports, returned as PNG bytes (embedded as base64: one file).
They take Estimates (evalkit.results), never metric key strings."""

from __future__ import annotations

import io

import numpy as np

from evalkit.results import Estimate


def figure(width: float = 7, height: float = 4.2):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(width, height), dpi=110)


def png_bytes(fig) -> bytes:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def error_bars(estimates: list[Estimate]) -> np.ndarray | None:
    """(2, n) distances from each value to its CI bounds (clipped at 0: round-off), or None without CIs."""
    if not estimates or any(e.low is None or e.high is None for e in estimates):
        return None
    value = np.array([e.value for e in estimates], float)
    bounds = np.vstack([value - np.array([e.low for e in estimates]), np.array([e.high for e in estimates]) - value])
    return np.clip(bounds, 0, None)


def fid_vs_clip(lines: dict[str, list[tuple[float, Estimate, Estimate]]], x_name: str, legend: str) -> bytes:
    """Imagen Fig. 4: FID against CLIP score, one line per label, points (x value, clip, fid) along x (guidance)."""
    fig, ax = figure()
    for label, points in lines.items():
        points = sorted(points, key=lambda p: p[0])
        clip, fid = [p[1] for p in points], [p[2] for p in points]
        line = ax.errorbar([e.value for e in clip], [e.value for e in fid], xerr=error_bars(clip), yerr=error_bars(fid),
                           marker="o", capsize=3, label=label)
        for x, c, f in points:
            ax.annotate(f"{x:g}", (c.value, f.value), textcoords="offset points", xytext=(4, 4), fontsize=7,
                        color=line[0].get_color())
    ax.set_xlabel("CLIP score (higher is better)")
    ax.set_ylabel("FID (lower is better)")
    ax.set_title(f"FID vs CLIP score over {x_name} (labels)")
    ax.grid(alpha=0.3)
    ax.legend(title=legend or None, fontsize=8)
    return png_bytes(fig)


def category_bars(series: dict[str, dict[str, Estimate]], what: str) -> bytes:
    """`what` per category with 95% CIs; `series` maps a run label to {category: Estimate}."""
    categories = sorted({c for values in series.values() for c in values})
    fig, ax = figure(max(7, 0.6 * len(categories) * max(1, len(series)) ** 0.5), 4.2)
    width = 0.8 / max(1, len(series))
    x = np.arange(len(categories))
    missing = Estimate(float("nan"), float("nan"), float("nan"))
    for i, (label, values) in enumerate(series.items()):
        estimates = [values.get(c, missing) for c in categories]
        ax.bar(x + i * width - 0.4 + width / 2, [e.value for e in estimates], width, yerr=error_bars(estimates),
               capsize=2, label=label)
    ax.set_xticks(x, categories, rotation=35, ha="right", fontsize=8)
    ax.set_ylabel(f"{what} (95% CI)")
    ax.set_title(f"{what} per category")
    if len(series) > 1:
        ax.legend(fontsize=7)
    ax.grid(axis="y", alpha=0.3)
    return png_bytes(fig)
