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


# The reference toolkit's HDBSCAN settings per kind of sample (min_cluster_size, min_samples),
# smallest first; a clusterer entry's own values override them.
DENSITY_PRESETS = {
    "even": {"min_cluster_size": 15, "min_samples": 5},
    "mixed": {"min_cluster_size": 100, "min_samples": 30},
    "large": {"min_cluster_size": 150, "min_samples": 50},
}
PRESET_FOR_SAMPLING = {"even": "even", "longtail": "mixed", "uneven": "mixed", "all": "large"}
DENSITY_KEYS = ("min_cluster_size", "min_samples")
DENSITY_KEYS_OF = {"hdbscan": DENSITY_KEYS, "dbscan": ("min_samples",)}  # the preset values each method uses


def choose_density_preset(preferred: str, typical_group_size: float) -> tuple[dict, str]:
    """(min_cluster_size/min_samples, how they were chosen) for groups of about ``typical_group_size`` images.

    A density cluster must be able to hold one species: a preset whose min_cluster_size is more
    than half the typical (median) species count would call whole species noise (150/50 on ~60
    photos per species scored V 0.35 where 15/5 scored 0.87). So the sampling's preset is kept
    when it fits, else the largest smaller preset that fits, else values scaled to the groups.
    """
    names = list(DENSITY_PRESETS)
    half = typical_group_size / 2
    for name in reversed(names[: names.index(preferred) + 1]):
        if DENSITY_PRESETS[name]["min_cluster_size"] <= half:
            reason = f"preset '{name}'" + ("" if name == preferred else
                                           f" (preset '{preferred}' needs groups of >= "
                                           f"{2 * DENSITY_PRESETS[preferred]['min_cluster_size']})")
            return dict(DENSITY_PRESETS[name]), f"{reason}; median group size {typical_group_size:g}"
    size = max(2, int(half))
    return ({"min_cluster_size": size, "min_samples": max(1, size // 3)},
            f"scaled to median group size {typical_group_size:g} (smaller than every preset)")


def with_density_preset(spec: dict, preset: str | None, typical_group_size: float | None = None) -> dict:
    """Fill min_cluster_size / min_samples of a density clusterer that does not set them.

    With ``typical_group_size`` (the sample's median images per species) the preset is checked
    against it (:func:`choose_density_preset`); the choice is recorded under ``density_rule``.
    """
    keys = DENSITY_KEYS_OF.get(spec["method"], ())
    if preset is None or all(key in spec for key in keys):
        return spec
    if typical_group_size is None:
        values, rule = dict(DENSITY_PRESETS[preset]), f"preset '{preset}'"
    else:
        values, rule = choose_density_preset(preset, typical_group_size)
    return {**{key: values[key] for key in keys}, **spec, "density_rule": rule}


def sampling_density_preset(sampling: dict) -> dict:
    """The sampling's preset: named by ``density_preset`` (used as is) or following its kind (checked against the sample)."""
    if sampling.get("density_preset"):
        return {"name": sampling["density_preset"], "fixed": True}
    return {"name": PRESET_FOR_SAMPLING[sampling["kind"]], "fixed": False}


def cell_spec(spec: dict, preset: dict | None, labels) -> dict:
    """A clusterer entry completed for one cell: density values chosen from the sample's species counts."""
    labels = np.asarray(labels)
    if not preset or not len(labels):
        return spec
    group_size = None if preset["fixed"] else float(np.median(np.unique(labels, return_counts=True)[1]))
    return with_density_preset(spec, preset["name"], group_size)


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

    used = {"min_cluster_size": int(spec.get("min_cluster_size", DENSITY_PRESETS["even"]["min_cluster_size"])),
            "min_samples": int(spec.get("min_samples", DENSITY_PRESETS["even"]["min_samples"])),
            "cluster_selection_method": spec.get("cluster_selection_method", "eom")}
    if len(points) < used["min_cluster_size"]:
        raise ClustererError(f"hdbscan min_cluster_size {used['min_cluster_size']} exceeds the {len(points)} points")
    return hdbscan.HDBSCAN(**used).fit_predict(points), used


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
    return DBSCAN(eps=eps, min_samples=min_samples).fit_predict(points), {"eps": eps, "min_samples": min_samples}


def _ward(points, spec, true_k, seed):
    from sklearn.cluster import AgglomerativeClustering

    k = resolve_k(spec.get("k"), true_k, len(points))
    return AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(points), {"k": k}


def _gmm(points, spec, true_k, seed):
    from sklearn.mixture import GaussianMixture

    used = {"k": resolve_k(spec.get("k"), true_k, len(points)),
            "covariance_type": spec.get("covariance_type", "full"), "n_init": int(spec.get("n_init", 1)),
            "reg_covar": float(spec.get("reg_covar", 1e-6))}
    try:
        model = GaussianMixture(n_components=used["k"], covariance_type=used["covariance_type"], random_state=seed,
                                n_init=used["n_init"], reg_covar=used["reg_covar"])
        return model.fit_predict(points), used
    except ValueError as error:  # "Fitting the mixture model failed because ... ill-defined empirical covariance"
        raise ClustererError(f"gmm failed: {error}") from None


def _kmeans(points, spec, true_k, seed):
    from sklearn.cluster import KMeans

    used = {"k": resolve_k(spec.get("k"), true_k, len(points)), "n_init": int(spec.get("n_init", 10))}
    return KMeans(n_clusters=used["k"], random_state=seed, n_init=used["n_init"]).fit_predict(points), used


# name -> function(points, spec, true_k, seed) -> (labels, the parameter values it actually used)
CLUSTERERS: dict[str, Callable[[np.ndarray, dict, int, int], tuple[np.ndarray, dict]]] = {
    "hdbscan": _hdbscan,
    "dbscan": _dbscan,
    "ward": _ward,
    "gmm": _gmm,
    "kmeans": _kmeans,
}


def fit_cluster(points: np.ndarray, spec: dict, true_k: int, seed: int) -> tuple[np.ndarray, dict]:
    """(labels with -1 = noise, the resolved parameters: k, min_cluster_size, eps, ... as used)."""
    method = spec["method"]
    if method not in CLUSTERERS:
        raise ClustererError(f"unknown clusterer method '{method}'; known: {sorted(CLUSTERERS)}")
    labels, used = CLUSTERERS[method](np.asarray(points, dtype=np.float64), spec, true_k, seed)
    return np.asarray(labels, dtype=np.int64), {"method": method, **used}


def cluster(points: np.ndarray, spec: dict, true_k: int, seed: int) -> np.ndarray:
    return fit_cluster(points, spec, true_k, seed)[0]
