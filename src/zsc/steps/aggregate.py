"""Step of workflow/rules/aggregate.smk: the tables over the grid."""

from __future__ import annotations

from zsc.io import console, write_table


def aggregate(cell_paths: list[str], reject_paths: list[str], labels_by_cell: dict[str, str], tables: dict) -> None:
    """The dataset's tables from its cells. ``labels_by_cell``: a cell's key -> its labels file; ``tables``:
    each table's path by its name in zsc.layout.TABLES (metrics csv/parquet, summary, leaderboard, ...)."""
    from zsc.evaluation.aggregate import (
        collect_outliers,
        collect_rejects,
        label_free_selection,
        leaderboard,
        load_cells,
        pairwise_table,
        split_costs,
        summarise,
    )

    metrics, per_species = load_cells(cell_paths)
    if (metrics["status"] != "ok").all():
        console(
            f"warning: every one of the {len(metrics)} cells failed, e.g. {metrics['reason'].iloc[0]} "
            f"(all reasons in {tables['csv']})"
        )
    deterministic, costs = split_costs(metrics)
    summary = summarise(metrics)
    write_table(metrics, tables["parquet"])
    write_table(deterministic, tables["csv"])
    write_table(costs, tables["costs"])
    write_table(summary, tables["summary"])
    write_table(label_free_selection(summary), tables["label_free"])
    settings, models = leaderboard(metrics)
    write_table(settings, tables["leaderboard"])
    write_table(models, tables["leaderboard_models"])
    write_table(pairwise_table(metrics, settings), tables["pairwise"])
    write_table(collect_outliers(metrics, labels_by_cell), tables["outliers"])
    write_table(per_species, tables["per_species"])
    write_table(collect_rejects(reject_paths), tables["rejects"])
