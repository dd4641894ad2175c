"""Matplotlib figures for reports, returned as PNG bytes (embedded as base64: one file)."""

from __future__ import annotations

import io

import numpy as np


def _figure(width: float = 7, height: float = 4.2):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(width, height), dpi=110)


def _png(fig) -> bytes:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def _err(frame, key: str):
    low, high = f"{key}/ci95_low", f"{key}/ci95_high"
    if low in frame and high in frame and frame[low].notna().all():
        value = frame[key]
        # clip: a CI endpoint equal to the value can differ from it by round-off
        return np.clip(np.vstack([value - frame[low], frame[high] - value]), 0, None)
    return None


def fid_vs_clip(frame, x_axis: str, group_by: list[str]) -> bytes:
    """Imagen Fig. 4: FID against CLIP score, one line per group, points along `x_axis` (guidance)."""
    fig, ax = _figure()
    groups = frame.groupby(group_by, sort=True) if group_by else [("all runs", frame)]
    for name, group in groups:
        group = group.sort_values(x_axis)
        label = ", ".join(str(v) for v in (name if isinstance(name, tuple) else (name,)))
        xerr, yerr = _err(group, "clip_score/mean"), _err(group, "fid")
        line = ax.errorbar(group["clip_score/mean"], group["fid"], xerr=xerr, yerr=yerr, marker="o", capsize=3, label=label)
        for _, row in group.iterrows():
            ax.annotate(f"{row[x_axis]:g}", (row["clip_score/mean"], row["fid"]), textcoords="offset points",
                        xytext=(4, 4), fontsize=7, color=line[0].get_color())
    ax.set_xlabel("CLIP score (higher is better)")
    ax.set_ylabel("FID (lower is better)")
    ax.set_title(f"FID vs CLIP score over {x_axis.split('.')[-1]} (labels)")
    ax.grid(alpha=0.3)
    ax.legend(title=", ".join(g.split(".")[-1] for g in group_by) or None, fontsize=8)
    return _png(fig)


def category_bars(series: dict[str, dict[str, tuple[float, float, float]]]) -> bytes:
    """CLIP score per category with 95% CIs; `series` maps a run label to {category: (mean, low, high)}."""
    categories = sorted({c for values in series.values() for c in values})
    fig, ax = _figure(max(7, 0.6 * len(categories) * max(1, len(series)) ** 0.5), 4.2)
    width = 0.8 / max(1, len(series))
    x = np.arange(len(categories))
    for i, (label, values) in enumerate(series.items()):
        means = np.array([values.get(c, (np.nan,) * 3)[0] for c in categories])
        lows = np.array([values.get(c, (np.nan,) * 3)[1] for c in categories])
        highs = np.array([values.get(c, (np.nan,) * 3)[2] for c in categories])
        ax.bar(x + i * width - 0.4 + width / 2, means, width, yerr=np.clip(np.vstack([means - lows, highs - means]), 0, None),
               capsize=2, label=label)
    ax.set_xticks(x, categories, rotation=35, ha="right", fontsize=8)
    ax.set_ylabel("CLIP score (95% CI)")
    ax.set_title("CLIP score per category")
    if len(series) > 1:
        ax.legend(fontsize=7)
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def categories_from_metrics(metrics: dict) -> dict[str, tuple[float, float, float]]:
    """{category: (mean, low, high)} from flat `clip_score/<category>[/ci95_*]` keys."""
    out = {}
    for key, value in metrics.items():
        parts = key.split("/")
        if parts[0] == "clip_score" and len(parts) == 2 and parts[1] not in ("mean", "ci95_low", "ci95_high"):
            out[parts[1]] = (value, metrics.get(f"{key}/ci95_low", value), metrics.get(f"{key}/ci95_high", value))
    return out
