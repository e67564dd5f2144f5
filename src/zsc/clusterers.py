"""Clusterers: a registry of name -> function(points, spec, true_k, seed) -> labels (-1 = noise).

``k`` for the k-given methods is ``true_k`` (the number of species in the
sample) or a fixed integer. Density methods find k themselves.
"""

from __future__ import annotations

from typing import Callable

import numpy as np


DENSITY_METHODS = frozenset({"hdbscan", "dbscan"})
K_GIVEN = frozenset({"ward", "gmm", "kmeans"})


class ClustererError(ValueError):
    """A clustering that cannot run on this input (recorded in the metrics row)."""


# The reference toolkit's HDBSCAN settings per kind of sample (min_cluster_size, min_samples);
# a clusterer entry's own values override them.
DENSITY_PRESETS = {
    "even": {"min_cluster_size": 15, "min_samples": 5},
    "mixed": {"min_cluster_size": 100, "min_samples": 30},
    "large": {"min_cluster_size": 150, "min_samples": 50},
}
PRESET_FOR_SAMPLING = {"even": "even", "longtail": "mixed", "uneven": "mixed", "all": "large"}


def with_density_preset(spec: dict, preset: str | None) -> dict:
    """Fill min_cluster_size / min_samples of a density clusterer from the sampling's preset."""
    if spec["method"] not in DENSITY_METHODS or preset is None:
        return spec
    return {**DENSITY_PRESETS[preset], **spec}


def resolve_k(k, true_k: int, n_points: int) -> int:
    """Number of clusters for k-given methods: ``true_k``, an int, or a factor of true_k such as ``2x``."""
    if k in (None, "true_k"):
        resolved = true_k
    elif isinstance(k, str) and k.endswith("x"):
        resolved = max(1, round(float(k[:-1]) * true_k))
    else:
        resolved = int(k)
    if not 1 <= resolved <= n_points:
        raise ClustererError(f"k={resolved} is not between 1 and the {n_points} sampled points")
    return resolved


def _hdbscan(points, spec, true_k, seed):
    import hdbscan

    min_cluster_size = int(spec.get("min_cluster_size", DENSITY_PRESETS["even"]["min_cluster_size"]))
    if len(points) < min_cluster_size:
        raise ClustererError(f"hdbscan min_cluster_size {min_cluster_size} exceeds the {len(points)} points")
    return hdbscan.HDBSCAN(
        min_cluster_size=min_cluster_size,
        min_samples=int(spec.get("min_samples", DENSITY_PRESETS["even"]["min_samples"])),
        cluster_selection_method=spec.get("cluster_selection_method", "eom"),
    ).fit_predict(points)


def dbscan_eps(points: np.ndarray, min_samples: int, quantile: float) -> float:
    """eps = the ``quantile`` of each point's distance to its ``min_samples``-th true neighbour."""
    from sklearn.neighbors import NearestNeighbors

    k = min(min_samples + 1, len(points))  # +1: the point itself comes back first
    distances, _ = NearestNeighbors(n_neighbors=k).fit(points).kneighbors(points)
    eps = float(np.quantile(distances[:, -1], quantile))
    return eps if eps > 0 else 1e-9


def _dbscan(points, spec, true_k, seed):
    from sklearn.cluster import DBSCAN

    min_samples = int(spec.get("min_samples", 5))
    eps = float(spec["eps"]) if spec.get("eps") else dbscan_eps(points, min_samples, float(spec.get("eps_quantile", 0.9)))
    return DBSCAN(eps=eps, min_samples=min_samples).fit_predict(points)


def _ward(points, spec, true_k, seed):
    from sklearn.cluster import AgglomerativeClustering

    return AgglomerativeClustering(n_clusters=resolve_k(spec.get("k"), true_k, len(points)),
                                   linkage="ward").fit_predict(points)


def _gmm(points, spec, true_k, seed):
    from sklearn.mixture import GaussianMixture

    k = resolve_k(spec.get("k"), true_k, len(points))
    try:
        model = GaussianMixture(n_components=k, covariance_type=spec.get("covariance_type", "full"),
                                random_state=seed, n_init=int(spec.get("n_init", 1)),
                                reg_covar=float(spec.get("reg_covar", 1e-6)))
        return model.fit_predict(points)
    except ValueError as error:  # "Fitting the mixture model failed because ... ill-defined empirical covariance"
        raise ClustererError(f"gmm failed: {error}") from None


def _kmeans(points, spec, true_k, seed):
    from sklearn.cluster import KMeans

    return KMeans(n_clusters=resolve_k(spec.get("k"), true_k, len(points)), random_state=seed,
                  n_init=int(spec.get("n_init", 10))).fit_predict(points)


CLUSTERERS: dict[str, Callable[[np.ndarray, dict, int, int], np.ndarray]] = {
    "hdbscan": _hdbscan,
    "dbscan": _dbscan,
    "ward": _ward,
    "gmm": _gmm,
    "kmeans": _kmeans,
}


def cluster(points: np.ndarray, spec: dict, true_k: int, seed: int) -> np.ndarray:
    method = spec["method"]
    if method not in CLUSTERERS:
        raise ClustererError(f"unknown clusterer method '{method}'; known: {sorted(CLUSTERERS)}")
    return np.asarray(CLUSTERERS[method](np.asarray(points, dtype=np.float64), spec, true_k, seed), dtype=np.int64)
