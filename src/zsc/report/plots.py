"""Figures for `snakemake --report`: readable at a glance, matplotlib only."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402


def plain(text) -> str:
    """User text (species, model, config names) drawn literally: '$' would start matplotlib mathtext."""
    return str(text).replace("$", r"\$")


ROW_INCHES = 0.32  # height of one heatmap row
PANEL_INCHES = 1.3  # a panel's title and column labels


def draw_heatmap(summary: pd.DataFrame, metric: str = "v_measure_retained_mean") -> plt.Figure:
    """Mean V-measure per (model, reducer) row and clusterer column, one panel per sampling (and split).

    Panels are stacked, each as tall as its rows (a one-row panel stays one row high), so row
    labels never reach into a neighbouring panel.
    """
    if "split" not in summary:
        summary = summary.assign(split="pooled")
    panels = sorted(summary[["sampling", "split"]].drop_duplicates().itertuples(index=False, name=None))
    titles = [f"sampling: {s}" + ("" if split == "pooled" else f", split: {split}") for s, split in panels]
    tables = [
        summary[(summary["sampling"] == s) & (summary["split"] == split)].pivot_table(
            index=["model", "reducer"], columns="clusterer", values=metric, dropna=False
        )
        for s, split in panels
    ]
    rows = [len(table) for table in tables]
    n_columns = max(table.shape[1] for table in tables)
    height = ROW_INCHES * sum(rows) + PANEL_INCHES * len(tables)  # cells + each panel's title and tick labels
    fig, axes = plt.subplots(
        len(tables),
        1,
        figsize=(4.5 + 0.9 * n_columns, height),
        squeeze=False,
        gridspec_kw={"height_ratios": rows},
        layout="constrained",
    )
    image = None
    for ax, title, table in zip(axes[:, 0], titles, tables):
        values = table.to_numpy(dtype=float)
        image = ax.imshow(values, vmin=0, vmax=1, cmap="viridis", aspect="auto")
        ax.set_xticks(range(table.shape[1]), [plain(c) for c in table.columns], rotation=30, ha="right", fontsize=8)
        ax.set_yticks(range(table.shape[0]), [plain(f"{m} / {r}") for m, r in table.index], fontsize=8)
        for (i, j), value in np.ndenumerate(values):
            if np.isfinite(value):
                ax.text(
                    j,
                    i,
                    f"{value:.2f}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="black" if value > 0.6 else "white",
                )
        ax.set_title(plain(title), fontsize=9)
    fig.colorbar(image, ax=axes[:, 0].tolist(), label=metric.replace("_", " "), shrink=0.8)
    return fig


def heatmap(summary: pd.DataFrame, path: Path, metric: str = "v_measure_retained_mean") -> None:
    fig = draw_heatmap(summary, metric)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def per_species_bars(per_species: pd.DataFrame, cell: dict, path: Path) -> None:
    """For one cell: each species' share in its dominant cluster and that cluster's purity."""
    rows = per_species.merge(pd.DataFrame([cell]), on=list(cell)).sort_values("dominant_share")
    fig, ax = plt.subplots(figsize=(7, 0.28 * len(rows) + 1.5))
    y = np.arange(len(rows))
    ax.barh(y - 0.2, rows["dominant_share"], height=0.4, label="share of its images in its dominant cluster")
    ax.barh(y + 0.2, rows["dominant_purity"].fillna(0), height=0.4, label="purity of that cluster")
    ax.set_yticks(y, [plain(label) for label in rows["label"]], fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_title(plain(" / ".join(str(v) for v in cell.values())), fontsize=9)
    ax.legend(loc="lower right", fontsize=7)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def scatter(points: pd.DataFrame, labels: pd.DataFrame, title: str, path: Path) -> None:
    """2-D reduction coloured by species; clustering noise drawn as black crosses."""
    frame = points.merge(labels[["image_id", "cluster"]], on="image_id")
    fig, ax = plt.subplots(figsize=(7, 6))
    species = sorted(frame["label"].unique())
    colours = plt.get_cmap("tab20", max(len(species), 1))
    for index, label in enumerate(species):
        part = frame[(frame["label"] == label) & (frame["cluster"] != -1)]
        ax.scatter(part["x0"], part["x1"], s=8, color=colours(index), label=plain(label))
    noise = frame[frame["cluster"] == -1]
    ax.scatter(noise["x0"], noise["x1"], s=14, marker="x", color="black", label="noise")
    ax.set_title(plain(title), fontsize=9)
    ax.set_xticks([]), ax.set_yticks([])
    if len(species) <= 20:
        ax.legend(fontsize=6, markerscale=1.5, loc="best")
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def notice(text: str, path: Path) -> None:
    """A figure that says why there is nothing to draw (e.g. every cell failed), instead of no file."""
    fig, ax = plt.subplots(figsize=(6, 1.5))
    ax.axis("off")
    ax.text(0.5, 0.5, plain(text), ha="center", va="center", wrap=True, fontsize=10)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
