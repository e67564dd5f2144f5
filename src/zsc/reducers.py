"""Dimensionality reducers: a registry of name -> constructor, scikit-learn style.

Every reducer z-scores its input first (as the reference toolkit does) and is
seeded. Defaults follow the reference study: 2 components, t-SNE perplexity
min(30, max(5, N//50)), UMAP n_neighbors min(15, max(5, N//100)).
"""

from __future__ import annotations

import warnings
from typing import Callable

import numpy as np
from sklearn.preprocessing import StandardScaler


def tsne_perplexity(n: int) -> float:
    return float(min(30, max(5, n // 50)))


def umap_neighbors(n: int) -> int:
    return int(min(15, max(5, n // 100)))


class ReducerError(ValueError):
    """A reduction that cannot run on this input (recorded in the metrics row)."""


def _require_points(n: int, minimum: int, method: str) -> None:
    if n < minimum:
        raise ReducerError(f"{method} needs at least {minimum} points, got {n}")


def _pca(x, spec, seed):
    from sklearn.decomposition import PCA

    _require_points(len(x), spec["n_components"] + 1, "pca")
    return PCA(n_components=spec["n_components"], random_state=seed).fit_transform(x)


def _tsne(x, spec, seed):
    perplexity = float(spec.get("perplexity") or tsne_perplexity(len(x)))
    _require_points(len(x), int(3 * perplexity) + 2, "tsne (3 x perplexity + 2)")
    if spec.get("implementation", "sklearn") == "opentsne":
        from openTSNE import TSNE as OpenTSNE

        return np.asarray(OpenTSNE(n_components=spec["n_components"], perplexity=perplexity,
                                   random_state=seed, n_jobs=spec.get("n_jobs", 1), verbose=False).fit(x))
    from sklearn.manifold import TSNE

    return TSNE(n_components=spec["n_components"], perplexity=perplexity, random_state=seed,
                init="pca", n_jobs=spec.get("n_jobs", 1)).fit_transform(x)


def _knn(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact kNN (self included, as UMAP expects) with scikit-learn: no numba compile needed."""
    from sklearn.neighbors import NearestNeighbors

    distances, indices = NearestNeighbors(n_neighbors=k).fit(x).kneighbors(x)
    return indices.astype(np.int32), distances.astype(np.float32)


def _umap(x, spec, seed):
    n_neighbors = int(spec.get("n_neighbors") or umap_neighbors(len(x)))
    _require_points(len(x), n_neighbors + 2, "umap (n_neighbors + 2)")
    import umap

    indices, distances = _knn(x, n_neighbors)
    model = umap.UMAP(n_components=spec["n_components"], n_neighbors=n_neighbors,
                      min_dist=spec.get("min_dist", 0.1), random_state=seed,
                      precomputed_knn=(indices, distances, None), n_jobs=1)
    with warnings.catch_warnings():  # we never call transform(), so the missing search index is fine
        warnings.filterwarnings("ignore", message="precomputed_knn.*not an NNDescent object")
        return model.fit_transform(x)


def _isomap(x, spec, seed):
    from sklearn.manifold import Isomap

    n_neighbors = int(spec.get("n_neighbors") or 5)
    _require_points(len(x), n_neighbors + 2, "isomap (n_neighbors + 2)")
    return Isomap(n_components=spec["n_components"], n_neighbors=n_neighbors).fit_transform(x)


def _kernel_pca(x, spec, seed):
    from sklearn.decomposition import KernelPCA

    _require_points(len(x), spec["n_components"] + 1, "kernel_pca")
    return KernelPCA(n_components=spec["n_components"], kernel=spec.get("kernel", "rbf"),
                     gamma=spec.get("gamma"), random_state=seed).fit_transform(x)


REDUCERS: dict[str, Callable[[np.ndarray, dict, int], np.ndarray]] = {
    "tsne": _tsne,
    "umap": _umap,
    "pca": _pca,
    "isomap": _isomap,
    "kernel_pca": _kernel_pca,
}


def reduce(x: np.ndarray, spec: dict, seed: int) -> np.ndarray:
    """z-score ``x`` (unless ``standardize: false``) and reduce it per ``spec['method']``."""
    method = spec["method"]
    if method not in REDUCERS:
        raise ReducerError(f"unknown reducer method '{method}'; known: {sorted(REDUCERS)}")
    spec = {"n_components": 2, **spec}
    x = np.asarray(x, dtype=np.float64)
    if spec.get("standardize", True):
        x = StandardScaler().fit_transform(x)
    reduced = np.asarray(REDUCERS[method](x, spec, seed), dtype=np.float32)
    if not np.isfinite(reduced).all():
        raise ReducerError(f"{method} produced non-finite coordinates")
    return reduced
