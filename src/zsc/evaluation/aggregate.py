"""Cell results -> the metrics table, the summary over seeds, per-species table and costs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from zsc.grid import CELL_KEYS

KEYS = list(CELL_KEYS)  # a metrics row's cell (grid.Cell without the dataset)
SETTING = [key for key in KEYS if key != "seed"]
COST_COLUMNS = ["reduce_seconds", "reduce_peak_rss_mb", "cluster_seconds"]
SUMMARY_METRICS = [
    "v_measure_retained",
    "v_measure_all",
    "group_balanced_v_measure",
    "ari_retained",
    "ami_retained",
    "accuracy_retained",
    "macro_f1_retained",
    "noise_fraction",
    "review_effort",
    "clusters_found",
    "silhouette",
    "dbcv",
]
LABEL_FREE_PROXIES = ["silhouette", "dbcv"]
RANK_BY = "v_measure_retained"


def load_cells(paths: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(one row per cell, one row per cell x species) from the cells' JSON files."""
    rows, species_rows = [], []
    for path in paths:
        row = json.loads(Path(path).read_text())
        for entry in row.pop("per_species", []):
            species_rows.append({**{key: row[key] for key in KEYS}, **entry})
        rows.append(row)
    metrics = pd.DataFrame(rows)
    metrics["seed"] = metrics["seed"].astype(int)
    metrics = metrics.sort_values(KEYS, ignore_index=True)
    per_species = pd.DataFrame(species_rows)
    if len(per_species):
        per_species["seed"] = per_species["seed"].astype(int)
        per_species = per_species.sort_values(KEYS + ["label"], ignore_index=True)
    return metrics, per_species


def _ci95_halfwidth(values: pd.Series) -> float:
    values = values.dropna()
    if len(values) < 2:
        return float("nan")
    return float(stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values)))


def summarise(metrics: pd.DataFrame) -> pd.DataFrame:
    """Mean, std and 95% CI half-width over seeds per setting, ranked by mean V-measure (retained)."""
    metrics = metrics.copy()
    for column in SUMMARY_METRICS:
        if column not in metrics:
            metrics[column] = np.nan
    grouped = metrics.groupby(SETTING, sort=True)
    summary = grouped.agg(
        n_seeds=("seed", "nunique"),
        n_failed=("status", lambda s: int((s != "ok").sum())),
    )
    for column in SUMMARY_METRICS:
        summary[f"{column}_mean"] = grouped[column].mean()
        summary[f"{column}_std"] = grouped[column].std(ddof=1)
        summary[f"{column}_ci95"] = grouped[column].agg(_ci95_halfwidth)
        summary[f"{column}_n"] = grouped[column].count()  # seeds the mean covers (undefined scores left out)
    summary = summary.reset_index().sort_values(
        [f"{RANK_BY}_mean"] + SETTING, ascending=[False] + [True] * len(SETTING), na_position="last", ignore_index=True
    )
    summary.insert(0, "rank", np.arange(1, len(summary) + 1))
    return summary


LEADER_SETTING = ["model", "reducer", "clusterer", "sampling"]


def scored_cells(metrics: pd.DataFrame) -> pd.DataFrame:
    scored = metrics[metrics["status"] == "ok"] if "status" in metrics else metrics
    if RANK_BY not in scored:  # every cell failed: no score at all, still one row per setting
        scored = scored.assign(**{RANK_BY: np.nan})
    return scored


def seed_scores(scored: pd.DataFrame) -> pd.Series:
    """Each setting's score per seed: the mean over splits of that seed's V-measure (retained)."""
    return (
        scored.groupby(LEADER_SETTING + ["seed", "split"])[RANK_BY].mean().unstack("split").mean(axis=1, skipna=False)
    )


def rank_blocks(metrics: pd.DataFrame, settings: pd.DataFrame, top: int) -> pd.DataFrame:
    """V-measure (retained) of the ``top`` best settings per block (seed x split): one column per setting."""
    scored = scored_cells(metrics)
    names = ["/".join(map(str, row)) for row in settings[LEADER_SETTING].head(top).itertuples(index=False)]
    scored = scored.assign(setting=["/".join(map(str, row)) for row in scored[LEADER_SETTING].itertuples(index=False)])
    scored = scored[scored["setting"].isin(names)]
    return scored.pivot_table(index=["seed", "split"], columns="setting", values=RANK_BY).reindex(columns=names)


def pairwise_table(metrics: pd.DataFrame, settings: pd.DataFrame) -> pd.DataFrame:
    """The top settings of ``settings`` (the leaderboard) compared pair by pair (zsc.evaluation.paired)."""
    from zsc.evaluation.paired import pairwise

    return pairwise(seed_scores(scored_cells(metrics)).dropna(), settings, LEADER_SETTING)


def leaderboard(metrics: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The reference study's tables: (settings ranked by split-balanced V, models ranked by their mean).

    ``split_balanced_v_mean`` = the mean over splits of each split's mean V-measure (retained) over
    seeds, e.g. (mean over Aves runs + mean over Mammalia runs) / 2; an unsplit dataset has one split,
    so it is the plain mean. ``ci95`` is over seeds, of each seed's mean over splits. A setting with a
    split that has no score at all has no split-balanced score. ``diff_to_best``, ``p_vs_best`` and
    ``tied_with_best``: each setting against rank 1 on the seeds they share (zsc.evaluation.paired).
    """
    from zsc.evaluation.paired import compare_with_best

    scored = scored_cells(metrics)
    per_split = scored.groupby(LEADER_SETTING + ["split"])[RANK_BY].mean().unstack("split")
    per_seed = seed_scores(scored)
    by_seed = per_seed.groupby(level=LEADER_SETTING)
    table = pd.DataFrame(
        {
            "split_balanced_v_mean": per_split.mean(axis=1, skipna=False),
            "ci95": by_seed.agg(_ci95_halfwidth),
            "n_seeds": by_seed.count(),
        }
    )
    for split in per_split.columns:
        table[f"v_measure_{split}_mean"] = per_split[split]
    table = table.reset_index().sort_values(
        ["split_balanced_v_mean"] + LEADER_SETTING,
        ascending=[False] + [True] * 4,
        na_position="last",
        ignore_index=True,
    )
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    paired = compare_with_best(per_seed.dropna(), table, LEADER_SETTING)
    table = pd.concat(
        [table, paired[["diff_to_best", "n_paired", "p_vs_best_raw", "p_vs_best", "tied_with_best"]]], axis=1
    )
    models = (
        table.groupby("model")["split_balanced_v_mean"]
        .agg(["mean", "count"])
        .rename(columns={"mean": "mean_over_settings", "count": "n_settings"})
        .reset_index()
        .sort_values(["mean_over_settings", "model"], ascending=[False, True], na_position="last", ignore_index=True)
    )
    models.insert(0, "rank", np.arange(1, len(models) + 1))
    return table, models


def label_free_selection(summary: pd.DataFrame) -> pd.DataFrame:
    """How well each label-free score ranks the settings like V-measure does: Spearman per clusterer.

    A user without labels picks the setting with the best proxy; a high rho says that choice is sound.
    """
    rows = []
    for (clusterer, sampling), settings in summary.groupby(["clusterer", "sampling"], sort=True):  # splits pooled
        for proxy in LABEL_FREE_PROXIES:
            pairs = settings[[f"{proxy}_mean", f"{RANK_BY}_mean"]].dropna()
            rho, p_value = (
                stats.spearmanr(pairs.iloc[:, 0], pairs.iloc[:, 1])
                if len(pairs) >= 3 and pairs.nunique().min() > 1
                else (np.nan, np.nan)
            )
            rows.append(
                {
                    "clusterer": clusterer,
                    "sampling": sampling,
                    "proxy": proxy,
                    "n_settings": len(pairs),
                    "spearman_rho": float(rho),
                    "p_value": float(p_value),
                }
            )
    return pd.DataFrame(rows, columns=["clusterer", "sampling", "proxy", "n_settings", "spearman_rho", "p_value"])


def usable_settings(summary: pd.DataFrame) -> pd.DataFrame:
    """Summary rows (best first) with at least one seed that did not fail."""
    return summary[summary["n_failed"] < summary["n_seeds"]]


def first_ok_cell(metrics: pd.DataFrame, setting) -> pd.Series:
    """The metrics row of ``setting`` (model, reducer, clusterer, sampling) with the lowest seed that succeeded."""
    rows = metrics.merge(pd.DataFrame([{key: setting[key] for key in SETTING}]), on=SETTING)
    return rows[rows["status"] == "ok"].sort_values("seed").iloc[0]


def collect_outliers(metrics: pd.DataFrame, labels_by_cell: dict[str, str]) -> pd.DataFrame:
    """Every noise image of every density-clusterer cell, with its nearest cluster and distance.

    ``labels_by_cell``: a cell's key (zsc.grid.cell_key) -> its labels file, as the rule lists them."""
    from zsc.grid import cell_key

    frames = []
    density = metrics.get("density_method", pd.Series(False, index=metrics.index)).fillna(False).astype(bool)
    for _, cell in metrics[(metrics["status"] == "ok") & density].iterrows():
        noise = pd.read_parquet(labels_by_cell[cell_key(cell)]).query("cluster == -1")
        frames.append(noise.assign(**{key: cell[key] for key in KEYS}))
    columns = KEYS + ["image_id", "label", "group", "nearest_cluster", "nearest_distance"]
    return pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)


def split_costs(metrics: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(deterministic metrics, wall-time and memory costs): same config and seeds give the same first table."""
    cost_columns = [c for c in COST_COLUMNS if c in metrics]
    return metrics.drop(columns=cost_columns), metrics[KEYS + cost_columns]


def collect_rejects(paths: list[str]) -> pd.DataFrame:
    frames = []
    for path in paths:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        frame.insert(0, "source", Path(path).stem)
        frames.append(frame)
    return (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=["source", "image_id", "stage", "reason"])
    )
