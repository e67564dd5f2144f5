"""Dimensionality reducers: a registry of methods, each declaring its parameters once.

Every reducer z-scores its input first (as the reference toolkit does) and is seeded.
Defaults follow the reference study: 2 components, t-SNE perplexity min(30, max(5, N//50))
with PCA initialisation, UMAP and Isomap n_neighbors min(15, max(5, N//100)), UMAP min_dist
0.1, Kernel PCA rbf. Each reduction records the parameters it resolved.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
from sklearn.preprocessing import StandardScaler


def tsne_perplexity(n: int) -> float:
    return float(min(30, max(5, n // 50)))


def umap_neighbors(n: int) -> int:
    """UMAP's and Isomap's n_neighbors in the reference toolkit."""
    return int(min(15, max(5, n // 100)))


class ReducerError(ValueError):
    """A reduction that cannot run on this input (recorded in the metrics row)."""


def _require_points(n: int, minimum: int, method: str) -> None:
    if n < minimum:
        raise ReducerError(f"{method} needs at least {minimum} points, got {n}")


def _pca(x, params, seed):
    from sklearn.decomposition import PCA

    _require_points(len(x), params["n_components"] + 1, "pca")
    return PCA(n_components=params["n_components"], random_state=seed).fit_transform(x), {}


def _tsne(x, params, seed):
    perplexity = float(params["perplexity"] or tsne_perplexity(len(x)))
    _require_points(len(x), int(3 * perplexity) + 2, "tsne (3 x perplexity + 2)")
    used = {"perplexity": perplexity}
    if params["implementation"] == "opentsne":
        from openTSNE import TSNE as OpenTSNE

        return np.asarray(OpenTSNE(n_components=params["n_components"], perplexity=perplexity,
                                   random_state=seed, n_jobs=params["n_jobs"], verbose=False).fit(x)), used
    from sklearn.manifold import TSNE

    return TSNE(n_components=params["n_components"], perplexity=perplexity, random_state=seed,
                init="pca", n_jobs=params["n_jobs"]).fit_transform(x), used


def exact_knn(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact kNN with scikit-learn (no numba compile), each point its own first neighbour at distance 0.

    scikit-learn's euclidean distances can leave a point's distance to itself at ~1e-6
    instead of 0; UMAP takes the first neighbour's distance as its local radius (rho), so
    those leftovers changed graph weights by up to 0.56. The self column is set exactly.
    """
    from sklearn.neighbors import NearestNeighbors

    distances, indices = NearestNeighbors(n_neighbors=k).fit(x).kneighbors(x)
    rows = np.arange(len(x))
    # the k - 1 nearest other points, in distance order (an exact duplicate may have come back first)
    others = np.argsort(indices == rows[:, None], axis=1, kind="stable")[:, : k - 1]
    indices = np.column_stack([rows, np.take_along_axis(indices, others, axis=1)])
    distances = np.column_stack([np.zeros(len(x)), np.take_along_axis(distances, others, axis=1)])
    return indices.astype(np.int32), distances.astype(np.float32)


def umap_model(x, params, n_neighbors, seed):
    """An unfitted UMAP on the exact kNN graph (what UMAP itself builds for small data)."""
    import umap

    indices, distances = exact_knn(x, n_neighbors)
    return umap.UMAP(n_components=params["n_components"], n_neighbors=n_neighbors, min_dist=params["min_dist"],
                     random_state=seed, precomputed_knn=(indices, distances, None), n_jobs=1)


def _umap(x, params, seed):
    n_neighbors = int(params["n_neighbors"] or umap_neighbors(len(x)))
    _require_points(len(x), n_neighbors + 2, "umap (n_neighbors + 2)")
    model = umap_model(x, params, n_neighbors, seed)
    with warnings.catch_warnings():  # we never call transform(), so the missing search index is fine
        warnings.filterwarnings("ignore", message="precomputed_knn.*not an NNDescent object")
        return model.fit_transform(x), {"n_neighbors": n_neighbors}


def _isomap(x, params, seed):
    from sklearn.manifold import Isomap

    n_neighbors = int(params["n_neighbors"] or umap_neighbors(len(x)))
    _require_points(len(x), n_neighbors + 2, "isomap (n_neighbors + 2)")
    return Isomap(n_components=params["n_components"], n_neighbors=n_neighbors).fit_transform(x), {"n_neighbors": n_neighbors}


def _kernel_pca(x, params, seed):
    from sklearn.decomposition import KernelPCA

    _require_points(len(x), params["n_components"] + 1, "kernel_pca")
    return KernelPCA(n_components=params["n_components"], kernel=params["kernel"], gamma=params["gamma"],
                     random_state=seed).fit_transform(x), {}


@dataclass(frozen=True)
class Param:
    default: Any  # None: resolved per reduction (see doc)
    doc: str


@dataclass(frozen=True)
class Method:
    fit: Callable  # (z-scored x, resolved params, seed) -> (coordinates, values resolved from the data)
    params: dict[str, Param] = field(default_factory=dict)

    def get_params(self, spec: dict) -> dict:
        return {**COMMON_PARAMS, **{name: p.default for name, p in self.params.items()},
                **{key: value for key, value in spec.items() if key != "method"}}


COMMON_PARAMS = {"n_components": 2, "standardize": True}  # every reducer: output dimensions, z-score first
NEIGHBOURS = Param(None, "min(15, max(5, N // 100)), the reference toolkit's rule")
REDUCER_METHODS: dict[str, Method] = {
    "tsne": Method(_tsne, {"perplexity": Param(None, "min(30, max(5, N // 50))"),
                           "implementation": Param("sklearn", "sklearn or opentsne"),
                           "n_jobs": Param(1, "threads")}),
    "umap": Method(_umap, {"n_neighbors": NEIGHBOURS, "min_dist": Param(0.1, "UMAP's min_dist")}),
    "pca": Method(_pca),
    "isomap": Method(_isomap, {"n_neighbors": NEIGHBOURS}),
    "kernel_pca": Method(_kernel_pca, {"kernel": Param("rbf", "rbf, poly, sigmoid, cosine or linear"),
                                       "gamma": Param(None, "1 / n_features (scikit-learn's default)")}),
}
REDUCERS = {name: method.fit for name, method in REDUCER_METHODS.items()}


def resolve_reduction(x: np.ndarray, spec: dict, seed: int) -> tuple[np.ndarray, dict]:
    """(coordinates, every parameter as used): z-score ``x`` unless ``standardize: false``, then reduce."""
    method = spec["method"]
    if method not in REDUCER_METHODS:
        raise ReducerError(f"unknown reducer method '{method}'; known: {sorted(REDUCER_METHODS)}")
    params = REDUCER_METHODS[method].get_params(spec)
    x = np.asarray(x, dtype=np.float64)
    if params["standardize"]:
        x = StandardScaler().fit_transform(x)
    reduced, used = REDUCER_METHODS[method].fit(x, params, seed)
    reduced = np.asarray(reduced, dtype=np.float32)
    if not np.isfinite(reduced).all():
        raise ReducerError(f"{method} produced non-finite coordinates")
    return reduced, {"method": method, **params, **used}


def reduce(x: np.ndarray, spec: dict, seed: int) -> np.ndarray:
    """z-score ``x`` (unless ``standardize: false``) and reduce it per ``spec['method']``."""
    return resolve_reduction(x, spec, seed)[0]
