"""Cell results -> the metrics table, the summary over seeds, per-species table and costs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

KEYS = ["model", "reducer", "clusterer", "sampling", "seed"]
SETTING = ["model", "reducer", "clusterer", "sampling"]
COST_COLUMNS = ["reduce_seconds", "reduce_peak_rss_mb", "cluster_seconds"]
SUMMARY_METRICS = ["v_measure_retained", "v_measure_all", "ari_retained", "ami_retained", "accuracy_retained",
                   "noise_fraction", "clusters_found", "silhouette"]
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
    summary = summary.reset_index().sort_values(
        [f"{RANK_BY}_mean"] + SETTING, ascending=[False] + [True] * len(SETTING), na_position="last", ignore_index=True
    )
    summary.insert(0, "rank", np.arange(1, len(summary) + 1))
    return summary


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
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["source", "image_id", "stage", "reason"])
