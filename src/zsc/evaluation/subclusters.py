"""Over-clustering within species: does the variation a model sees inside a species follow
sex, age class or pelage? Each species' points are split into ``m`` sub-clusters, which are
scored against optional per-image attributes (a CSV: image_id plus one column per attribute).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn import metrics as skm

from zsc.io import read_user_csv
from zsc.methods.clusterers import fit_cluster

SCORE_COLUMNS = ["attribute", "n_species", "n_images", "v_measure", "ari"]


def subcluster_species(points: np.ndarray, labels, m: int, spec: dict, seed: int) -> tuple[np.ndarray, dict]:
    """(sub-cluster id 0..m-1 per point, computed separately within each species; the clusterer's
    parameters as used, recorded as a benchmark cell records them).

    Species with fewer than m + 1 points keep a single sub-cluster 0.
    """
    labels = np.asarray(labels)
    result = np.zeros(len(labels), dtype=np.int64)
    used: dict = {}
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        if len(members) > m:
            result[members], used, _ = fit_cluster(points[members], {**spec, "k": m}, true_k=m, seed=seed)
    return result, used


def read_attributes(path) -> pd.DataFrame:
    """The attributes table: image_id plus attribute columns (sex, age_class, pelage, ...)."""
    table = read_user_csv(path, "attributes CSV")
    if "image_id" not in table.columns or len(table.columns) < 2:
        raise ValueError(f"{path}: an attributes CSV needs an image_id column and at least one attribute column")
    duplicated = table["image_id"][table["image_id"].duplicated()].tolist()
    if duplicated:
        raise ValueError(f"{path}: image_id listed twice, e.g. {duplicated[:3]}")
    return table


def score_attributes(frame: pd.DataFrame, attributes: pd.DataFrame) -> pd.DataFrame:
    """Per attribute: mean over species of V-measure and ARI between sub-clusters and attribute values.

    ``frame`` has image_id, label, subcluster. Only images with a non-empty value count, and only
    species where the attribute takes at least two values (otherwise there is nothing to recover).
    """
    merged = frame.merge(attributes, on="image_id", how="left")
    rows = []
    for attribute in [c for c in attributes.columns if c != "image_id"]:
        v_values, ari_values, n_images = [], [], 0
        for _, species in merged[merged[attribute].fillna("") != ""].groupby("label"):
            if species[attribute].nunique() < 2:
                continue
            v_values.append(skm.v_measure_score(species[attribute], species["subcluster"]))
            ari_values.append(skm.adjusted_rand_score(species[attribute], species["subcluster"]))
            n_images += len(species)
        rows.append(
            {
                "attribute": attribute,
                "n_species": len(v_values),
                "n_images": n_images,
                "v_measure": float(np.mean(v_values)) if v_values else float("nan"),
                "ari": float(np.mean(ari_values)) if ari_values else float("nan"),
            }
        )
    return pd.DataFrame(rows, columns=SCORE_COLUMNS)
