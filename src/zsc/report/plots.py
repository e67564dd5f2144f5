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
    panels = panel_order(summary)
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
    for ax, title, table, panel in zip(axes[:, 0], titles, tables, panels):
        values = table.to_numpy(dtype=float)
        sampling, split = panel
        present = summary[(summary["sampling"] == sampling) & (summary["split"] == split)]
        ran_pairs = set(zip(present["model"], present["reducer"], present["clusterer"]))
        ran = np.array([[(m, r, c) in ran_pairs for c in table.columns] for m, r in table.index])
        image = ax.imshow(values, vmin=0, vmax=1, cmap="viridis", aspect="auto")
        ax.set_xticks(range(table.shape[1]), [plain(c) for c in table.columns], rotation=30, ha="right", fontsize=8)
        ax.set_yticks(range(table.shape[0]), [plain(f"{m} / {r}") for m, r in table.index], fontsize=8)
        spread = spread_table(summary, panel, table, metric)
        for (i, j), value in np.ndenumerate(values):
            if np.isfinite(value):
                text = f"{value:.2f}" + (f"\n±{spread[i, j]:.2f}" if np.isfinite(spread[i, j]) else "")
                ax.text(j, i, text, ha="center", va="center", fontsize=6, color="black" if value > 0.6 else "white")
            elif ran[i, j]:
                ax.text(j, i, "no score", ha="center", va="center", fontsize=6, color="#b00")
        ax.set_title(plain(title), fontsize=9)
    fig.colorbar(image, ax=axes[:, 0].tolist(), label=metric.replace("_", " "), shrink=0.8)
    fig.suptitle(HEATMAP_KEY, fontsize=7, color="#444")
    return fig


HEATMAP_KEY = (
    "each cell: mean over seeds, ± its standard deviation · blank: not run · no score: fewer than two clusters"
)


def panel_order(summary: pd.DataFrame) -> list[tuple]:
    """The main grid first (the sampling with the most settings), then the others by name."""
    sizes = summary.groupby(["sampling", "split"]).size()
    return sorted(sizes.index, key=lambda panel: (-sizes[panel], panel))


def spread_table(summary: pd.DataFrame, panel: tuple, table: pd.DataFrame, metric: str) -> np.ndarray:
    """The seeds' standard deviation per cell of a panel (NaN where not known)."""
    column = metric.replace("_mean", "_std")
    if column not in summary:
        return np.full(table.shape, np.nan)
    sampling, split = panel
    part = summary[(summary["sampling"] == sampling) & (summary["split"] == split)]
    spread = part.pivot_table(index=["model", "reducer"], columns="clusterer", values=column, dropna=False)
    return spread.reindex(index=table.index, columns=table.columns).to_numpy(dtype=float)


def heatmap(summary: pd.DataFrame, path: Path, metric: str = "v_measure_retained_mean") -> None:
    fig = draw_heatmap(summary, metric)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def per_species_bars(per_species: pd.DataFrame, cell: dict, path: Path) -> None:
    fig = draw_per_species_bars(per_species, cell)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def draw_per_species_bars(per_species: pd.DataFrame, cell: dict) -> plt.Figure:
    """For one cell: each species' share in its dominant cluster and that cluster's purity."""
    rows = per_species.merge(pd.DataFrame([cell]), on=list(cell)).sort_values("dominant_share")
    fig, ax = plt.subplots(figsize=(7, 0.28 * len(rows) + 1.5))
    y = np.arange(len(rows))
    ax.barh(y - 0.2, rows["dominant_share"], height=0.4, label="share of its images in its dominant cluster")
    ax.barh(y + 0.2, rows["dominant_purity"].fillna(0), height=0.4, label="purity of that cluster")
    ax.set_yticks(y, [plain(label) for label in rows["label"]], fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_xlabel("share (0-1)", fontsize=8)
    ax.set_ylabel("species", fontsize=8)
    ax.set_title(plain(" / ".join(str(v) for v in cell.values())), fontsize=9)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7)  # outside: never over a bar
    return fig


MARKERS = "os^Dv"  # with tab20's colours: 100 distinct (colour, marker) pairs


def style(index: int) -> dict:
    """A distinct look for group ``index``: 20 colours x 5 markers."""
    return {"color": plt.get_cmap("tab20")(index % 20), "marker": MARKERS[(index // 20) % len(MARKERS)]}


def misclustered(frame: pd.DataFrame) -> pd.Series:
    """Photos whose species is not their cluster's majority species (noise excluded)."""
    clustered = frame[frame["cluster"] != -1]
    majority = clustered.groupby("cluster")["label"].agg(lambda labels: labels.value_counts().index[0])
    return (frame["cluster"] != -1) & (frame["label"] != frame["cluster"].map(majority))


def scatter(points: pd.DataFrame, labels: pd.DataFrame, title: str, path: Path) -> None:
    fig = draw_scatter(points, labels, title)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def draw_scatter(points: pd.DataFrame, labels: pd.DataFrame, title: str) -> plt.Figure:
    """2-D reduction coloured by cluster (20 colours x 5 markers), photos whose species is not their
    cluster's majority circled in red, noise as black crosses."""
    frame = points.merge(labels[["image_id", "cluster"]], on="image_id")
    fig, ax = plt.subplots(figsize=(7, 6))
    clusters = sorted(c for c in frame["cluster"].unique() if c != -1)
    for index, cluster in enumerate(clusters):
        part = frame[frame["cluster"] == cluster]
        ax.scatter(part["x0"], part["x1"], s=10, label=f"cluster {cluster}", **style(index))
    wrong = frame[misclustered(frame)]
    ax.scatter(wrong["x0"], wrong["x1"], s=60, facecolors="none", edgecolors="red", linewidths=0.8,
               label=f"not its cluster's majority species ({len(wrong)})")  # fmt: skip
    noise = frame[frame["cluster"] == -1]
    ax.scatter(noise["x0"], noise["x1"], s=14, marker="x", color="black", label=f"noise ({len(noise)})")
    ax.set_title(plain(title), fontsize=9)
    ax.set_xticks([]), ax.set_yticks([])
    ax.set_xlabel("reduced axis 1", fontsize=8), ax.set_ylabel("reduced axis 2", fontsize=8)
    handles, names = ax.get_legend_handles_labels()
    keep = (
        [i for i, name in enumerate(names) if not name.startswith("cluster ")]
        if len(clusters) > 20
        else range(len(names))
    )
    ax.legend([handles[i] for i in keep], [names[i] for i in keep], fontsize=6, markerscale=1.2,
              loc="upper left", bbox_to_anchor=(1.01, 1.0))  # fmt: skip
    return fig


def sort_map(assignments: pd.DataFrame, title: str, path: Path) -> None:
    fig = draw_sort_map(assignments, title)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def draw_sort_map(assignments: pd.DataFrame, title: str) -> plt.Figure:
    """A sort run's 2-D map (its ``map_x``/``map_y``), coloured by cluster, doubtful photos circled.

    Only the photos this run clustered have a place on the map: photos named in an earlier review
    (``status`` known) or assigned to a reviewed species are counted in the legend, not drawn.
    """
    status = assignments["status"] if "status" in assignments else pd.Series("new", index=assignments.index)
    drawn = assignments[status == "new"]
    fig, ax = plt.subplots(figsize=(7, 6))
    clusters = sorted(c for c in drawn["cluster"].unique() if c != -1)
    for index, cluster in enumerate(clusters):
        part = drawn[drawn["cluster"] == cluster]
        ax.scatter(part["map_x"], part["map_y"], s=10, label=f"cluster {cluster}", **style(index))
    doubtful = drawn[drawn["doubtful"].astype(bool)]
    ax.scatter(doubtful["map_x"], doubtful["map_y"], s=60, facecolors="none", edgecolors="red", linewidths=0.8,
               label=f"doubtful: shown first on the review page ({len(doubtful)})")  # fmt: skip
    away = status.value_counts().drop("new", errors="ignore")
    for state, count in away.items():  # not on the map: an empty handle, so the legend still counts them
        ax.scatter([], [], s=0, label=f"{state}, not drawn ({count})")
    ax.set_title(plain(title), fontsize=9)
    ax.set_xticks([]), ax.set_yticks([])
    ax.set_xlabel("map axis 1", fontsize=8), ax.set_ylabel("map axis 2", fontsize=8)
    handles, names = ax.get_legend_handles_labels()
    keep = [i for i, name in enumerate(names) if len(clusters) <= 20 or not name.startswith("cluster ")]
    ax.legend([handles[i] for i in keep], [names[i] for i in keep], fontsize=6, markerscale=1.2,
              loc="upper left", bbox_to_anchor=(1.01, 1.0))  # fmt: skip
    return fig


def draw_critical_difference(ranks: pd.Series, cd: float, n_blocks: int, runs: list[tuple[int, int]]) -> plt.Figure:
    """Demsar's critical-difference diagram: mean ranks (1 = best) on an axis, settings whose ranks differ by
    less than the critical difference joined by a bar."""
    k = len(ranks)
    fig, ax = plt.subplots(figsize=(9, 1.2 + 0.28 * k), layout="constrained")
    ax.set_xlim(0.5, k + 0.5)
    ax.set_ylim(-(k + 1), 1.5)
    ax.hlines(0, 1, k, color="black", linewidth=1)
    for r in range(1, k + 1):
        ax.vlines(r, -0.1, 0.1, color="black", linewidth=1)
        ax.text(r, 0.35, str(r), ha="center", fontsize=8)
    for position, (name, rank) in enumerate(ranks.items()):
        y = -(position + 1)
        ax.plot([rank, rank], [0, y], color="#555", linewidth=0.7)
        ax.plot(rank, 0, "o", color="black", markersize=3)
        ax.text(k + 0.45, y, f"{plain(name)}  ({rank:.2f})", ha="left", va="center", fontsize=7)
        ax.plot([rank, k + 0.4], [y, y], color="#555", linewidth=0.7)
    for number, (first, last) in enumerate(runs):
        y = 0.9 + 0.18 * number
        ax.plot(
            [ranks.iloc[first] - 0.05, ranks.iloc[last] + 0.05],
            [y, y],
            color="#d33",
            linewidth=3,
            solid_capstyle="butt",
        )
    ax.set_ylim(-(k + 1), 1.2 + 0.18 * max(len(runs), 1))
    ax.axis("off")
    ax.set_title(
        f"mean rank over {n_blocks} seed x split blocks (1 = best); red bars join settings within the critical "
        f"difference {cd:.2f} (Nemenyi, 0.05)",
        fontsize=8,
    )
    return fig


def critical_difference(ranks: pd.Series, cd: float, n_blocks: int, runs, path: Path) -> None:
    fig = draw_critical_difference(ranks, cd, n_blocks, runs)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def notice(text: str, path: Path) -> None:
    """A figure that says why there is nothing to draw (e.g. every cell failed), instead of no file."""
    fig, ax = plt.subplots(figsize=(6, 1.5))
    ax.axis("off")
    ax.text(0.5, 0.5, plain(text), ha="center", va="center", wrap=True, fontsize=10)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def activity_figure(summary: pd.DataFrame, title: str, path: Path) -> None:
    """Independent detections per species by hour of day (camera clock): one row of bars per species."""
    species = sorted(summary["species"].unique())
    fig, axes = plt.subplots(
        max(1, len(species)), 1, figsize=(8, 0.9 + 1.1 * max(1, len(species))), sharex=True, squeeze=False
    )
    for axis, name in zip(axes[:, 0], species):
        counts = summary.loc[summary["species"] == name, "hour"].value_counts().reindex(range(24), fill_value=0)
        axis.bar(range(24), counts.to_numpy(), color="#3b7a57", width=0.85)
        axis.set_ylabel(plain(name), rotation=0, ha="right", va="center", fontsize=9)
        axis.spines[["top", "right"]].set_visible(False)
    axes[-1, 0].set_xticks(range(0, 24, 3))
    axes[-1, 0].set_xlabel("hour of day (camera clock)")
    axes[0, 0].set_title(plain(title), fontsize=10)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
