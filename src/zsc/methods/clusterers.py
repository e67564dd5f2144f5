"""Clusterers: a registry of methods, each declaring its parameters once (timm-style registry,
scikit-learn-style explicit defaults).

``CLUSTERER_METHODS[name]`` holds the fitting function, the method's kind (density: finds k
itself, label -1 = noise; k_given) and its parameters with their defaults. The config check
refuses a parameter a method does not declare, and every cell records the resolved values.
``k`` for the k-given methods is ``true_k`` (the number of species in the sample), an integer or
a factor such as ``2x``.
"""

from __future__ import annotations

import warnings

import numpy as np

from zsc.methods.base import POSITIVE_INT, Method, Param, choice, integer, number
from zsc.methods.density import DENSITY_PRESETS

TRUE_K = "true_k"  # k = the species in the sample: k-given methods' default


class ClustererError(ValueError):
    """A clustering that cannot run on this input (recorded in the metrics row)."""


def resolve_k(k, true_k: int, n_points: int) -> int:
    """Number of clusters for k-given methods: ``true_k``, an int, or a factor of true_k such as ``2x``."""
    if k is None or k == TRUE_K:
        resolved = true_k
    elif isinstance(k, str) and k.endswith("x"):
        resolved = max(1, round(float(k[:-1]) * true_k))
    else:
        resolved = int(k)
    if not 1 <= resolved <= n_points:
        raise ClustererError(f"k={resolved} is not between 1 and the {n_points} sampled points")
    return resolved


def clusterer(fit, kind: str, params=None, memory=None) -> Method:
    """A clusterer's registry entry (kind: density | k_given)."""
    return Method(fit, params or {}, memory, kind=kind)


def peak_mb(n: int, per_point: float = 0.0, quadratic: float = 0.0) -> float:
    """A cell job's peak memory in MB: imports and metrics (~250 MB) plus the method's terms in bytes,
    fitted to the clusterers' measured peaks on 2-D points at 100,000 to 1,000,000 points
    (bench/bench.py --only season; --only scale checks 10k-100k)."""
    return 250 + (per_point * n + quadratic * n * n) / 1e6


# The reference toolkit's DBSCAN presets: eps = mean distance to the min_samples-th neighbour x multiplier.
DBSCAN_PRESETS = {
    "auto": {"eps_multiplier": 1.0, "min_samples": 5},
    "relaxed": {"eps_multiplier": 1.5, "min_samples": 20},
    "very_relaxed": {"eps_multiplier": 2.0, "min_samples": 30},
}


def _hdbscan(points, params, true_k, seed):
    import hdbscan

    used = {
        "min_cluster_size": int(params["min_cluster_size"] or DENSITY_PRESETS["even"]["min_cluster_size"]),
        "min_samples": int(params["min_samples"] or DENSITY_PRESETS["even"]["min_samples"]),
        "cluster_selection_method": params["cluster_selection_method"],
    }
    if len(points) < used["min_cluster_size"]:
        raise ClustererError(f"hdbscan min_cluster_size {used['min_cluster_size']} exceeds the {len(points)} points")
    return hdbscan.HDBSCAN(metric="euclidean", **used).fit_predict(points), used, {}


def reference_eps(points: np.ndarray, min_samples: int, multiplier: float) -> float:
    """The reference toolkit's eps: the mean distance to the ``min_samples``-th neighbour, the point
    itself counted as the first, times ``multiplier``; 0.5 when there are too few points."""
    from sklearn.neighbors import NearestNeighbors

    if len(points) <= min_samples:
        return 0.5
    distances, _ = NearestNeighbors(n_neighbors=min_samples).fit(points).kneighbors(points)
    return max(float(np.mean(distances[:, -1])) * multiplier, float(np.finfo(float).eps))


def quantile_eps(points: np.ndarray, min_samples: int, quantile: float) -> float:
    """eps = the ``quantile`` of each point's distance to its ``min_samples``-th true neighbour (self excluded)."""
    from sklearn.neighbors import NearestNeighbors

    k = min(min_samples + 1, len(points))  # +1: the point itself comes back first
    distances, _ = NearestNeighbors(n_neighbors=k).fit(points).kneighbors(points)
    eps = float(np.quantile(distances[:, -1], quantile))
    return eps if eps > 0 else 1e-9


def _dbscan(points, params, true_k, seed):
    from sklearn.cluster import DBSCAN

    preset = DBSCAN_PRESETS[params["preset"]]
    min_samples = int(params["min_samples"] or preset["min_samples"])
    used = {"preset": params["preset"], "min_samples": min_samples, "eps_rule": params["eps_rule"]}
    if params["eps"]:
        used.update(eps_rule="given", eps=float(params["eps"]))
    elif params["eps_rule"] == "quantile":
        used.update(
            eps_quantile=float(params["eps_quantile"]), eps=quantile_eps(points, min_samples, params["eps_quantile"])
        )
    else:
        multiplier = float(params["eps_multiplier"] or preset["eps_multiplier"])
        used.update(eps_multiplier=multiplier, eps=reference_eps(points, min_samples, multiplier))
    return DBSCAN(eps=used["eps"], min_samples=min_samples).fit_predict(points), used, {}


def _ward(points, params, true_k, seed):
    from sklearn.cluster import AgglomerativeClustering

    k = resolve_k(params["k"], true_k, len(points))
    if params["connectivity"] is None:  # full Ward: every pair of points (N x N)
        return AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(points), {"k": k}, {}
    from sklearn.neighbors import kneighbors_graph

    from zsc.methods.reducers import connect_components

    n_neighbors = min(int(params["n_neighbors"]), len(points) - 1)
    # a disconnected graph joined here, component pair by pair on at most 200 points each: scikit-learn's
    # own completion compares every point of every pair of components (7 GB at 100,000 points, 0.5 here)
    graph = connect_components(points, kneighbors_graph(points, n_neighbors, include_self=False), seed)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="the number of connected components")
        labels = AgglomerativeClustering(n_clusters=k, linkage="ward", connectivity=graph).fit_predict(points)
    return labels, {"k": k, "n_neighbors": n_neighbors}, {}


def _gmm(points, params, true_k, seed):
    from sklearn.mixture import GaussianMixture

    used = {
        "k": resolve_k(params["k"], true_k, len(points)),
        "covariance_type": params["covariance_type"],
        "n_init": int(params["n_init"]),
        "reg_covar": float(params["reg_covar"]),
    }
    try:
        model = GaussianMixture(
            n_components=used["k"],
            covariance_type=used["covariance_type"],
            random_state=seed,
            n_init=used["n_init"],
            reg_covar=used["reg_covar"],
        )
        labels = model.fit_predict(points)
    except ValueError as error:  # "Fitting the mixture model failed because ... ill-defined empirical covariance"
        raise ClustererError(f"gmm failed: {error}") from None
    return labels, used, {"bic": float(model.bic(points)), "aic": float(model.aic(points))}


def _kmeans(points, params, true_k, seed):
    from sklearn.cluster import KMeans

    used = {"k": resolve_k(params["k"], true_k, len(points)), "n_init": int(params["n_init"])}
    return KMeans(n_clusters=used["k"], random_state=seed, n_init=used["n_init"]).fit_predict(points), used, {}


K_PARAM = Param(
    TRUE_K,
    "clusters: true_k (species in the sample), an integer, or a factor of true k such as 2x (over-clustering)",
    {"$ref": "#/definitions/k"},
)
CLUSTERER_METHODS: dict[str, Method] = {
    "hdbscan": clusterer(
        _hdbscan,
        "density",
        {
            "min_cluster_size": Param(
                None,
                "the hdbscan package's counting, as the reference toolkit; when absent, chosen per cell from the "
                "sampling's preset and the sample's species counts (see samplings.density_preset)",
                integer(2),
            ),
            "min_samples": Param(None, "from the sampling's preset, like min_cluster_size", POSITIVE_INT),
            "cluster_selection_method": Param("eom", "HDBSCAN's cluster selection", choice("eom", "leaf")),
        },
        memory=lambda n, p: peak_mb(n, per_point=1_400),
    ),
    "dbscan": clusterer(
        _dbscan,
        "density",
        {
            "preset": Param(
                "auto",
                "the reference presets: auto (eps x 1.0, min_samples 5), relaxed (x 1.5, 20), very_relaxed (x 2.0, 30)",
                choice("auto", "relaxed", "very_relaxed"),
            ),
            "min_samples": Param(None, "from the preset", POSITIVE_INT),
            "eps": Param(None, "a fixed eps; when absent, eps_rule decides", number(above=0)),
            "eps_rule": Param(
                "reference",
                "reference: mean distance to the min_samples-th neighbour from NearestNeighbors(n_neighbors="
                "min_samples) on the points themselves (self counted) x eps_multiplier; quantile: the eps_quantile "
                "of each point's distance to its min_samples-th true neighbour",
                choice("reference", "quantile"),
            ),
            "eps_multiplier": Param(None, "from the preset (reference rule)", number(above=0)),
            "eps_quantile": Param(0.9, "quantile rule", number(above=0, maximum=1)),
        },
        memory=lambda n, p: peak_mb(n, per_point=400),
    ),
    "ward": clusterer(
        _ward,
        "k_given",
        {
            "k": K_PARAM,
            "connectivity": Param(
                None,
                "null: full Ward (N x N memory, the reference); knn: merges only along a k-nearest-neighbour graph "
                "of the points (memory linear in N), the scalable form for large samples",
                choice("knn"),
            ),
            "n_neighbors": Param(10, "knn connectivity: neighbours per point", POSITIVE_INT),
        },
        memory=lambda n, p: peak_mb(n, quadratic=8) if p["connectivity"] is None else peak_mb(n, per_point=3_000),
    ),
    "gmm": clusterer(
        _gmm,
        "k_given",
        {
            "k": K_PARAM,
            "covariance_type": Param("full", "the components' covariance", choice("full", "tied", "diag", "spherical")),
            "n_init": Param(
                5, "initialisations, best kept (the reference's 5); BIC and AIC go into the row", POSITIVE_INT
            ),
            "reg_covar": Param(1e-6, "added to the covariance diagonals", number(above=0)),
        },
        memory=lambda n, p: peak_mb(n, per_point=3_300),
    ),
    "kmeans": clusterer(
        _kmeans,
        "k_given",
        {"k": K_PARAM, "n_init": Param(10, "initialisations", POSITIVE_INT)},
        memory=lambda n, p: peak_mb(n, per_point=150),
    ),
}
SCALABLE_CLUSTERERS = {"ward": "ward with connectivity: knn (merges along a 10-nearest-neighbour graph)"}
DENSITY_METHODS = frozenset(name for name, m in CLUSTERER_METHODS.items() if m.kind == "density")
K_GIVEN = frozenset(name for name, m in CLUSTERER_METHODS.items() if m.kind == "k_given")


def fit_cluster(points: np.ndarray, spec: dict, true_k: int, seed: int) -> tuple[np.ndarray, dict, dict]:
    """(labels with -1 = noise, every parameter as used, diagnostics such as GMM's BIC/AIC)."""
    method = spec["method"]
    if method not in CLUSTERER_METHODS:
        raise ClustererError(f"unknown clusterer method '{method}'; known: {sorted(CLUSTERER_METHODS)}")
    declared = CLUSTERER_METHODS[method]
    params = declared.resolved_params(spec)
    labels, used, diagnostics = declared.fit(np.asarray(points, dtype=np.float64), params, true_k, seed)
    resolved = {key: value for key, value in {**params, **used}.items() if key != "density_rule"}
    return np.asarray(labels, dtype=np.int64), {"method": method, **resolved}, diagnostics


def cluster(points: np.ndarray, spec: dict, true_k: int, seed: int) -> np.ndarray:
    return fit_cluster(points, spec, true_k, seed)[0]
