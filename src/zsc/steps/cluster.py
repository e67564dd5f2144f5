"""Step of workflow/rules/cluster.smk: one cell, clustered and scored."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from zsc.evaluation import metrics as zmetrics
from zsc.io import write_json, write_table
from zsc.methods.clusterers import DENSITY_METHODS, ClustererError, fit_cluster
from zsc.methods.density import cell_spec
from zsc.methods.reducers import reduced_coordinates

RECORDED_PARAMS = ("k", "min_cluster_size", "min_samples", "eps", "density_rule")


def recorded_params(spec: dict, used: dict) -> dict:
    """The values a cell actually ran with: flat columns for the common ones, all of them as JSON."""
    resolved = used or {key: value for key, value in spec.items() if key != "density_rule"}
    # one type per column: a cell that failed before clustering has no resolved k or eps (k may be 'true_k')
    flat = {key: used.get(key, None if key in ("k", "eps") else spec.get(key)) for key in RECORDED_PARAMS}
    if isinstance(flat["eps"], float):
        flat["eps"] = round(flat["eps"], 9)
    return {**flat, "params": json.dumps(resolved, sort_keys=True, default=str)}


def cluster(
    points_path: str,
    info_path: str,
    spec: dict,
    seed: int,
    cell: dict,
    labels_path: str,
    metrics_path: str,
    density_preset: dict | None = None,
) -> None:
    """Cluster one reduction and score it; any failure becomes a metrics row with a reason.

    ``density_preset``: {"name": preset, "fixed": bool} of the sampling; unless fixed, the preset is
    checked against the sample's median species count. The row records every resolved parameter.
    """
    reduce_info = json.loads(Path(info_path).read_text())
    points_frame = pd.read_parquet(points_path)
    coordinates = reduced_coordinates(points_frame)
    truth = points_frame["label"].to_numpy()
    spec = cell_spec(spec, density_preset, truth)
    row = {
        **cell,
        "reduce_seconds": reduce_info["reduce_seconds"],
        "reduce_peak_rss_mb": reduce_info.get("reduce_peak_rss_mb"),
    }
    started = time.perf_counter()
    predicted = np.full(len(points_frame), zmetrics.NOISE, dtype=np.int64)
    used, diagnostics = {}, {}
    if reduce_info["status"] != "ok":
        row.update(status="failed", reason=f"reduce: {reduce_info['reason']}")
    else:
        try:
            predicted, used, diagnostics = fit_cluster(coordinates, spec, true_k=len(np.unique(truth)), seed=seed)
            row.update(status="ok", reason="")
        except (ClustererError, ValueError) as error:
            row.update(status="failed", reason=f"cluster: {type(error).__name__}: {error}")
    row["cluster_seconds"] = round(time.perf_counter() - started, 4)
    row.update(
        recorded_params(spec, used),
        **diagnostics,
        reducer_params=json.dumps(reduce_info.get("params", {}), sort_keys=True, default=str),
    )
    if row["status"] == "ok":
        row.update(
            zmetrics.cell_scores(
                truth,
                predicted,
                coordinates,
                points_frame["group"],
                density=spec["method"] in DENSITY_METHODS,
                seed=seed,
            )
        )
    nearest, distance = zmetrics.nearest_clusters(coordinates, predicted)
    labels = points_frame[["image_id", "label", "group"]].assign(
        cluster=predicted, nearest_cluster=nearest, nearest_distance=distance
    )
    write_table(labels, labels_path)
    per_species = zmetrics.per_species(truth, predicted) if row["status"] == "ok" and len(truth) else pd.DataFrame()
    row["per_species"] = per_species.to_dict(orient="records")
    write_json(row, metrics_path)
