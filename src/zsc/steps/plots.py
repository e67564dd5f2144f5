"""Step of workflow/rules/plots.smk: the report's figures."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from zsc.grid import cell_key, reduction_key


def plots(
    summary_path: str,
    per_species_path: str,
    metrics_path: str,
    labels_by_cell: dict[str, str],
    points_by_reduction: dict[str, str],
    heatmap_path: str,
    per_species_plot_path: str,
    scatter_path: str,
    critical_difference_path: str | None = None,
) -> None:
    """Heatmap of the grid, per-species bars and the 2-D scatter of the best setting (its first ok seed)."""
    from zsc.evaluation.aggregate import KEYS, first_ok_cell, usable_settings
    from zsc.report import plots as figures

    summary = pd.read_csv(summary_path)
    metrics = pd.read_csv(metrics_path)
    figures.heatmap(summary, Path(heatmap_path))
    if critical_difference_path:
        draw_critical_difference(metrics, Path(critical_difference_path))
    if usable_settings(summary).empty:
        text = f"every cell failed: no setting to draw (reasons in {metrics_path}, column 'reason')"
        for path in (per_species_plot_path, scatter_path):
            figures.notice(text, Path(path))
        return
    cell = first_ok_cell(metrics, usable_settings(summary).iloc[0])
    keys = {key: cell[key] for key in KEYS}
    figures.per_species_bars(pd.read_csv(per_species_path), keys, Path(per_species_plot_path))
    points = pd.read_parquet(points_by_reduction[reduction_key(cell)])
    labels = pd.read_parquet(labels_by_cell[cell_key(cell)])
    title = " / ".join(str(v) for v in keys.values()) + f"  (V-measure {cell['v_measure_retained']:.3f})"
    figures.scatter(points, labels, title, Path(scatter_path))


def draw_critical_difference(metrics: pd.DataFrame, path: Path) -> None:
    """The ten best settings' mean ranks over seed x split blocks, with Nemenyi's critical difference."""
    from zsc.evaluation.aggregate import leaderboard, rank_blocks
    from zsc.evaluation.paired import CD_TOP, cliques, mean_ranks
    from zsc.report import plots as figures

    settings, _ = leaderboard(metrics)
    ranks, n_blocks, cd = mean_ranks(rank_blocks(metrics, settings.dropna(subset=["split_balanced_v_mean"]), CD_TOP))
    if len(ranks) < 2:
        figures.notice("fewer than two settings with a score on a common seed: no ranks to compare", path)
        return
    figures.critical_difference(ranks, cd, n_blocks, cliques(ranks, cd), path)


def sort_map(run: str, assignments_path: str, setting_path: str, map_path: str) -> None:
    """A sort run's 2-D map coloured by cluster, doubtful photos circled (the report's "Sort runs")."""
    from zsc.report import plots as figures
    from zsc.tables import ASSIGNMENTS, read_setting

    assignments = ASSIGNMENTS.read(assignments_path)
    setting = read_setting(setting_path)
    clusters = assignments.loc[assignments["cluster"] != -1, "cluster"].nunique()
    title = (
        f"sort run {run}: {setting['model']} / {setting['reducer']} / {setting['clusterer_spec']['method']}, "
        f"{len(assignments)} photos, {clusters} clusters"
    )
    figures.sort_map(assignments, title, Path(map_path))
