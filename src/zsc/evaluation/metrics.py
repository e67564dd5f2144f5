"""Every clustering metric, defined once.

Noise (label -1 from density clusterers) is handled two ways, both reported:

- ``*_retained``: noise points are excluded before scoring (the reference
  study's convention: scores describe the points the clusterer kept);
- ``*_all``: every noise point counts, all together as one extra cluster
  (Lowe et al. 2024's convention: noise is penalised).

Edge cases are defined, not errors: with fewer than two retained clusters every
``*_retained`` score is NaN with a ``score_note`` (one cluster would score V=0 and
completeness=1, numbers that mean nothing; the reference toolkit reports no score),
never a silent 0.0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from sklearn import metrics as skm

NOISE = -1

EXTERNAL_SCORES = {
    "v_measure": skm.v_measure_score,
    "homogeneity": skm.homogeneity_score,
    "completeness": skm.completeness_score,
    "ari": skm.adjusted_rand_score,
    "ami": skm.adjusted_mutual_info_score,
    "nmi": skm.normalized_mutual_info_score,
    "fowlkes_mallows": skm.fowlkes_mallows_score,
}


def hungarian_accuracy(truth: np.ndarray, predicted: np.ndarray) -> float:
    """Share of points whose cluster is matched one-to-one to their species (best matching)."""
    if len(truth) == 0:
        return float("nan")
    table = pd.crosstab(pd.Series(truth, name="t"), pd.Series(predicted, name="p")).to_numpy()
    rows, cols = linear_sum_assignment(-table)
    return float(table[rows, cols].sum() / len(truth))


def hungarian_macro_f1(truth: np.ndarray, predicted: np.ndarray) -> float:
    """Mean over species of the F1 between a species and the cluster matched to it one-to-one (0 if none)."""
    if len(truth) == 0:
        return float("nan")
    table = pd.crosstab(pd.Series(truth, name="t"), pd.Series(predicted, name="p"))
    counts = table.to_numpy()
    rows, cols = linear_sum_assignment(-counts)
    species_sizes, cluster_sizes = counts.sum(axis=1), counts.sum(axis=0)
    f1 = np.zeros(len(species_sizes))
    f1[rows] = 2 * counts[rows, cols] / (species_sizes[rows] + cluster_sizes[cols])
    return float(f1.mean())


MATCHED_SCORES = {"accuracy": hungarian_accuracy, "macro_f1": hungarian_macro_f1}


def _scores(truth: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    if len(truth) == 0:
        return {name: float("nan") for name in [*EXTERNAL_SCORES, *MATCHED_SCORES]}
    scores = {name: float(score(truth, predicted)) for name, score in EXTERNAL_SCORES.items()}
    scores.update({name: score(truth, predicted) for name, score in MATCHED_SCORES.items()})
    return scores


def external_metrics(truth, predicted) -> dict[str, float]:
    """All label-based metrics under both noise conventions, plus counts."""
    truth = np.asarray(truth)
    predicted = np.asarray(predicted, dtype=np.int64)
    if truth.shape != predicted.shape:
        raise ValueError(f"truth {truth.shape} and predicted {predicted.shape} differ in shape")
    kept = predicted != NOISE
    noise_as_cluster = np.where(kept, predicted, predicted.max(initial=0) + 1)
    n_retained_clusters = len(np.unique(predicted[kept]))
    if n_retained_clusters <= 1:  # one cluster (or none) scores V=0 / completeness=1: no score, as the reference
        result = {f"{name}_retained": float("nan") for name in [*EXTERNAL_SCORES, *MATCHED_SCORES]}
        result["score_note"] = f"{n_retained_clusters} retained cluster(s): *_retained scores undefined"
    else:
        result = {f"{name}_retained": value for name, value in _scores(truth[kept], predicted[kept]).items()}
        result["score_note"] = ""
    result.update({f"{name}_all": value for name, value in _scores(truth, noise_as_cluster).items()})
    result.update(review_effort(truth, predicted))
    result.update(
        n_points=int(len(truth)),
        noise_fraction=float(1.0 - kept.mean()) if len(truth) else float("nan"),
        clusters_found=int(len(np.unique(predicted[kept]))),
        true_k=int(len(np.unique(truth))),
    )
    return result


def silhouette(points: np.ndarray, predicted: np.ndarray, max_points: int = 5000, seed: int = 0) -> float:
    """Label-free silhouette in the reduced space, on non-noise points; NaN when undefined (< 2 clusters)."""
    predicted = np.asarray(predicted)
    kept = predicted != NOISE
    points, predicted = np.asarray(points)[kept], predicted[kept]
    n_clusters = len(np.unique(predicted))
    if n_clusters < 2 or n_clusters >= len(predicted):
        return float("nan")
    sample_size = min(max_points, len(predicted))
    return float(skm.silhouette_score(points, predicted, sample_size=sample_size, random_state=seed))


def group_balanced_v_measure(truth, predicted, groups) -> float:
    """Mean over groups (e.g. Aves, Mammalia) of the V-measure within each group, noise excluded:
    a setting cannot score well by sorting only the larger group."""
    truth, predicted, groups = np.asarray(truth), np.asarray(predicted), np.asarray(groups)
    kept = predicted != NOISE
    values = [
        skm.v_measure_score(truth[kept & (groups == g)], predicted[kept & (groups == g)])
        for g in np.unique(groups)
        if (kept & (groups == g)).any()
    ]
    return float(np.mean(values)) if values else float("nan")


def nearest_clusters(points: np.ndarray, predicted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For every point: the cluster of its nearest clustered point (itself if clustered) and that distance.

    Noise points get the cluster an expert would most likely put them in, and how far they are from it.
    """
    from sklearn.neighbors import NearestNeighbors

    predicted = np.asarray(predicted)
    kept = predicted != NOISE
    nearest = predicted.copy()
    distance = np.zeros(len(predicted))
    if kept.any() and (~kept).any():
        index = NearestNeighbors(n_neighbors=1).fit(points[kept])
        d, i = index.kneighbors(points[~kept])
        nearest[~kept] = predicted[kept][i[:, 0]]
        distance[~kept] = d[:, 0]
    return nearest, distance


DBCV_MAX_POINTS = (
    12_000  # exact up to the paper's size; above, a seeded random sample (its cost is quadratic per cluster)
)


def dbcv(points: np.ndarray, predicted: np.ndarray, max_points: int = DBCV_MAX_POINTS, seed: int = 0) -> float:
    """Density-based cluster validity (Moulavi et al. 2014) on non-noise points; NaN when undefined.

    Above ``max_points`` clustered points it is computed on a seeded random sample of them, as the
    silhouette is, so that memory stays bounded at any N."""
    from hdbscan.validity import validity_index

    predicted = np.asarray(predicted)
    kept = predicted != NOISE
    if kept.sum() > max_points:
        chosen = np.random.default_rng(seed).choice(np.flatnonzero(kept), max_points, replace=False)
        kept = np.zeros(len(predicted), dtype=bool)
        kept[chosen] = True
    if len(np.unique(predicted[kept])) < 2 or np.bincount(predicted[kept]).max(initial=0) < 2:
        return float("nan")
    try:
        with np.errstate(all="ignore"):
            value = float(validity_index(np.asarray(points, dtype=np.float64)[kept], predicted[kept]))
    except (ValueError, ZeroDivisionError, FloatingPointError):
        return float("nan")
    return value if np.isfinite(value) else float("nan")


def review_effort(truth, predicted) -> dict[str, float]:
    """The corrections a reviewer makes to turn the clusters into the species, as a share of the photos.

    Moves: each image outside its cluster's majority species, and each noise image, is moved once.
    Merges: clusters that share a majority species are merged into one (clusters - distinct majorities).
    ``review_effort`` = (moves + merges) / photos: 0 for a perfect clustering; for density clusterers
    the noise share alone is the reference study's "images that need expert review".
    """
    truth, predicted = np.asarray(truth), np.asarray(predicted)
    if len(truth) == 0:
        return {"review_effort": float("nan"), "review_moves": 0, "review_merges": 0}
    clustered = pd.DataFrame({"label": truth, "cluster": predicted})[predicted != NOISE]
    counts = clustered.groupby(["cluster", "label"]).size()
    majority = counts.groupby(level="cluster").max()
    majority_label = counts.groupby(level="cluster").idxmax().map(lambda key: key[1])
    moves = int(len(clustered) - majority.sum() + (predicted == NOISE).sum())
    merges = int(len(majority_label) - majority_label.nunique())
    return {"review_effort": (moves + merges) / len(truth), "review_moves": moves, "review_merges": merges}


def per_species(truth, predicted) -> pd.DataFrame:
    """For each species: share of its images in its dominant cluster, that cluster's purity, and who it merges with."""
    frame = pd.DataFrame({"label": np.asarray(truth), "cluster": np.asarray(predicted)})
    rows = []
    clustered = frame[frame["cluster"] != NOISE]
    cluster_sizes = clustered.groupby("cluster").size()
    for label, images in frame.groupby("label", sort=True):
        kept = images[images["cluster"] != NOISE]
        row = {"label": label, "n_images": len(images), "noise_fraction": 1 - len(kept) / len(images)}
        if len(kept):
            dominant = kept["cluster"].value_counts().sort_index().idxmax()
            members = clustered[clustered["cluster"] == dominant]["label"].value_counts()
            row.update(
                dominant_cluster=int(dominant),
                dominant_share=float((kept["cluster"] == dominant).sum() / len(images)),
                dominant_purity=float(members.get(label, 0) / cluster_sizes[dominant]),
                merged_with=";".join(sorted(str(other) for other in members.index if other != label)),
            )
        else:
            row.update(dominant_cluster=NOISE, dominant_share=0.0, dominant_purity=float("nan"), merged_with="")
        rows.append(row)
    return pd.DataFrame(rows)


def cell_scores(truth, predicted, coordinates, groups, density: bool, seed: int) -> dict:
    """Every score of one benchmark cell, in the metrics table's column order: the external metrics
    against the species, the label-free silhouette, DBCV for density clusterers, the group-balanced V."""
    return {
        **external_metrics(truth, predicted),
        "silhouette": silhouette(coordinates, predicted, seed=seed),
        "density_method": density,
        "dbcv": dbcv(coordinates, predicted) if density else float("nan"),
        "group_balanced_v_measure": group_balanced_v_measure(truth, predicted, groups),
    }
