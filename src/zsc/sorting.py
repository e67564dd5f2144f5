"""Sort unlabeled photos with one chosen setting: cluster folders plus a review list.

No labels are needed anywhere: the setting comes from the config, or from the best row of a
finished benchmark's summary.csv.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from zsc.aggregate import usable_settings
from zsc.clusterers import cluster
from zsc.metrics import NOISE, nearest_clusters
from zsc.reducers import reduce

LINK_MODES = ("symlink", "copy")


def best_setting(summary_path: Path | str) -> dict:
    """model/reducer/clusterer of the top-ranked setting of a finished benchmark."""
    path = Path(summary_path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: run the benchmark first (snakemake --cores all)")
    usable = usable_settings(pd.read_csv(path))
    if usable.empty:
        raise ValueError(f"{path}: every setting failed; no best setting to sort with")
    top = usable.iloc[0]
    return {"model": top["model"], "reducer": top["reducer"], "clusterer": top["clusterer"]}


def doubt(points: np.ndarray, labels: np.ndarray, min_silhouette: float) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Which images to set aside, the cluster each most likely belongs to, and why.

    Noise of a density clusterer is doubtful; so is an image whose silhouette is below
    ``min_silhouette`` (negative: it lies closer to another cluster than to its own), for which
    the suggested cluster is the nearest other cluster centre.
    """
    from sklearn.metrics import silhouette_samples

    nearest, distance = nearest_clusters(points, labels)
    doubtful = labels == NOISE
    reasons = ["noise: no dense cluster around it" if d else "" for d in doubtful]
    kept = ~doubtful
    if len(np.unique(labels[kept])) >= 2:
        scores = np.full(len(labels), np.nan)
        scores[kept] = silhouette_samples(points[kept], labels[kept])
        ids = np.unique(labels[kept])
        centres = np.stack([points[labels == c].mean(axis=0) for c in ids])
        for index in np.flatnonzero(kept & (scores < min_silhouette)):
            gaps = np.linalg.norm(centres - points[index], axis=1)
            gaps[ids == labels[index]] = np.inf
            nearest[index], distance[index] = ids[np.argmin(gaps)], gaps.min()
            doubtful[index] = True
            reasons[index] = f"between clusters: silhouette {scores[index]:.2f} < {min_silhouette}"
    return doubtful, np.column_stack([nearest, distance]), reasons


def assign(embeddings: np.ndarray, reducer_spec: dict, clusterer_spec: dict, k: int | None, seed: int,
           min_silhouette: float = 0.0) -> pd.DataFrame:
    """Per image: cluster (-1 = noise), whether it is doubtful and why, its likely cluster and distance."""
    points = reduce(embeddings, reducer_spec, seed)
    spec = {**clusterer_spec, "k": k} if k is not None else clusterer_spec
    labels = cluster(points, spec, true_k=k or 0, seed=seed)
    doubtful, nearest, reasons = doubt(points, labels, min_silhouette)
    return pd.DataFrame({"cluster": labels, "doubtful": doubtful, "reason": reasons,
                         "nearest_cluster": nearest[:, 0].astype(int), "distance_to_cluster": nearest[:, 1].round(6)})


def folder_name(cluster_id: int, doubtful: bool) -> str:
    return "doubtful" if doubtful else f"cluster_{cluster_id:03d}"


def write_cluster_folders(root: Path, assignments: pd.DataFrame, output_dir: Path, mode: str) -> None:
    """One folder per cluster (and 'doubtful' for outliers) holding links to, or copies of, the photos."""
    if mode not in LINK_MODES:
        raise ValueError(f"sort link mode must be one of {LINK_MODES}, got '{mode}'")
    for row in assignments.itertuples():
        target = output_dir / row.folder / row.image_id.replace("/", "__")
        target.parent.mkdir(parents=True, exist_ok=True)
        source = (Path(root) / row.image_id).resolve()
        if mode == "symlink":
            os.symlink(os.path.relpath(source, target.parent), target)
        else:
            shutil.copy2(source, target)
