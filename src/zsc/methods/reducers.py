"""Dimensionality reducers: a registry of methods, each declaring its parameters once.

Every reducer z-scores its input first (as the reference toolkit does) and is seeded.
Defaults follow the reference study: 2 components, t-SNE perplexity min(30, max(5, N//50))
with PCA initialisation, UMAP and Isomap n_neighbors min(15, max(5, N//100)), UMAP min_dist
0.1, Kernel PCA rbf. Each reduction records the parameters it resolved.

Above ``LARGE_N`` points (a season, not the reference grid, whose samples are at most 12,000 points
and keep the reference's exact float64 path) the input is float32 z-scored in place (the reduce
job's own rows: 4 bytes per value instead of 20; a caller's matrix that must be kept: one copy),
the neighbour-based reducers (t-SNE, UMAP, Isomap) first get a PCA to ``PRE_PCA_DIMS`` dimensions,
as openTSNE advises for large N, and UMAP searches neighbours approximately (NN-descent); the
reduction records it (``input``, ``pre_reduction``, ``knn``).
"""

from __future__ import annotations

import warnings

import numpy as np

from zsc.methods.base import POSITIVE_INT, Method, Param, choice, integer, number

LARGE_N = 20_000  # points; above: float32 z-scored in place, PCA first for PRE_PCA_METHODS
PRE_PCA_DIMS = 50
PRE_PCA_METHODS = frozenset({"tsne", "umap", "isomap"})
LANDMARK_BATCH = 32  # landmarks whose geodesics (float64) are computed at a time
CHUNK_ROWS = 65_536  # rows per block of the in-place z-scoring: its float64 temporaries stay ~0.4 GB


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
    implementation = params["implementation"]
    if implementation == "auto":  # exact reference (Barnes-Hut) where it is affordable, FFT above
        implementation = "sklearn" if len(x) <= params["fft_above"] else "opentsne"
    used = {"perplexity": perplexity, "implementation": implementation}
    if implementation == "opentsne":
        from openTSNE import TSNE as OpenTSNE

        return np.asarray(
            OpenTSNE(
                n_components=params["n_components"],
                perplexity=perplexity,
                negative_gradient_method="fft",
                random_state=seed,
                n_jobs=params["n_jobs"],
                verbose=False,
            ).fit(x)
        ), used
    from sklearn.manifold import TSNE

    return TSNE(
        n_components=params["n_components"],
        perplexity=perplexity,
        random_state=seed,
        init="pca",
        n_jobs=params["n_jobs"],
    ).fit_transform(x), used


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
    return umap.UMAP(
        n_components=params["n_components"],
        n_neighbors=n_neighbors,
        min_dist=params["min_dist"],
        random_state=seed,
        precomputed_knn=(indices, distances, None),
        n_jobs=1,
    )


def _umap(x, params, seed):
    n_neighbors = int(params["n_neighbors"] or umap_neighbors(len(x)))
    _require_points(len(x), n_neighbors + 2, "umap (n_neighbors + 2)")
    if len(x) > LARGE_N:  # exact kNN grows with N^2: UMAP's own approximate search (NN-descent)
        import umap

        model = umap.UMAP(
            n_components=params["n_components"],
            n_neighbors=n_neighbors,
            min_dist=params["min_dist"],
            random_state=seed,
            n_jobs=1,
        )
        return model.fit_transform(x), {"n_neighbors": n_neighbors, "knn": "nndescent"}
    model = umap_model(x, params, n_neighbors, seed)
    with warnings.catch_warnings():  # we never call transform(), so the missing search index is fine
        warnings.filterwarnings("ignore", message="precomputed_knn.*not an NNDescent object")
        return model.fit_transform(x), {"n_neighbors": n_neighbors}


def _isomap(x, params, seed):
    from sklearn.manifold import Isomap

    n_neighbors = int(params["n_neighbors"] or umap_neighbors(len(x)))
    _require_points(len(x), n_neighbors + 2, "isomap (n_neighbors + 2)")
    if params["landmarks"]:
        return landmark_isomap(x, params["n_components"], n_neighbors, int(params["landmarks"]), seed), {
            "n_neighbors": n_neighbors
        }
    return Isomap(n_components=params["n_components"], n_neighbors=n_neighbors).fit_transform(x), {
        "n_neighbors": n_neighbors
    }


def landmark_isomap(x: np.ndarray, n_components: int, n_neighbors: int, n_landmarks: int, seed: int) -> np.ndarray:
    """Landmark Isomap (de Silva & Tenenbaum 2003): geodesic distances from m random landmarks only
    (m x N instead of N x N), classical MDS on the landmarks, every point placed by distance-based
    triangulation. Equals classical Isomap when every point is a landmark."""
    from scipy.sparse.csgraph import dijkstra
    from sklearn.neighbors import kneighbors_graph

    n_landmarks = min(n_landmarks, len(x))
    landmarks = np.sort(np.random.default_rng(seed).choice(len(x), n_landmarks, replace=False))
    graph = connect_components(x, kneighbors_graph(x, n_neighbors, mode="distance"), seed)
    squared = np.empty((n_landmarks, len(x)), np.float32)  # squared geodesics from the landmarks: 4 bytes x m x N
    for start in range(0, n_landmarks, LANDMARK_BATCH):  # float64 only for a batch of landmarks at a time
        squared[start : start + LANDMARK_BATCH] = (
            dijkstra(graph, directed=False, indices=landmarks[start : start + LANDMARK_BATCH]) ** 2
        )
    among = squared[:, landmarks].astype(np.float64)
    centred = -0.5 * (among - among.mean(axis=0) - among.mean(axis=1)[:, None] + among.mean())
    values, vectors = np.linalg.eigh(centred)
    top = np.argsort(values)[::-1][:n_components]
    if (values[top] <= 0).any():
        raise ReducerError("isomap: the landmarks' geodesic distances have fewer positive directions than components")
    pseudo = vectors[:, top] / np.sqrt(values[top])
    # -0.5 (squared - row means)^T pseudo, without an m x N temporary
    return -0.5 * (squared.T @ pseudo.astype(np.float32) - among.mean(axis=1) @ pseudo)


def connect_components(x: np.ndarray, graph, seed: int, max_points: int = 200):
    """Join a disconnected kNN graph as scikit-learn's Isomap does (each pair of components by its
    closest pair of points), searching at most ``max_points`` random points per component so that
    memory stays linear; identical to scikit-learn's completion for components up to that size."""
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial.distance import cdist

    n_components, labels = connected_components(graph, directed=False)
    if n_components == 1:
        return graph
    rng = np.random.default_rng(seed)
    members = [np.flatnonzero(labels == c) for c in range(n_components)]
    members = [m if len(m) <= max_points else np.sort(rng.choice(m, max_points, replace=False)) for m in members]
    graph = graph.tolil()
    for i in range(n_components):
        for j in range(i + 1, n_components):
            distances = cdist(x[members[i]], x[members[j]])
            a, b = np.unravel_index(np.argmin(distances), distances.shape)
            graph[members[i][a], members[j][b]] = graph[members[j][b], members[i][a]] = distances[a, b]
    return graph.tocsr()


def _kernel_pca(x, params, seed):
    from sklearn.decomposition import PCA, KernelPCA
    from sklearn.kernel_approximation import Nystroem

    _require_points(len(x), params["n_components"] + 1, "kernel_pca")
    if params["landmarks"]:  # Nystroem feature map on m landmarks, then (centred) PCA: kernel PCA in m x N
        m = min(int(params["landmarks"]), len(x))
        features = Nystroem(
            kernel=params["kernel"], gamma=params["gamma"], n_components=m, random_state=seed
        ).fit_transform(x)
        return PCA(n_components=params["n_components"], random_state=seed).fit_transform(features), {"landmarks": m}
    return KernelPCA(
        n_components=params["n_components"], kernel=params["kernel"], gamma=params["gamma"], random_state=seed
    ).fit_transform(x), {}


def reducer(fit, params=None, memory=None) -> Method:
    """A reducer's registry entry: it also takes the common parameters (n_components, standardize)."""
    return Method(fit, params or {}, memory, kind="reducer", common=COMMON)


def peak_mb(
    n: int,
    d: int,
    per_point: float = 0.0,
    quadratic: float = 0.0,
    landmarks: int = 0,
    per_landmark_point: float = 0.0,
    season_per_point: float | None = None,
) -> float:
    """A reduce job's peak memory in MB: imports (~300 MB), the input's copies (up to ``LARGE_N``
    points float32 + float64 + z-scored: 20 bytes per value; above, the job's float32 rows z-scored
    in place: 4), plus the method's own terms in bytes. Coefficients were fitted to measured peaks
    at 4,000 and 8,000 points (bench/bench.py --only scale checks them at 10k-100k); above ``LARGE_N``
    ``season_per_point`` replaces ``per_point`` (the season path's method on 50 PCA dimensions),
    fitted to the peaks at 100,000 and 300,000 points (bench/bench.py --only season)."""
    per_value = 20 if n <= LARGE_N else 4
    if n > LARGE_N and season_per_point is not None:
        per_point = season_per_point
    return 300 + (per_value * n * d + per_point * n + quadratic * n * n + per_landmark_point * landmarks * n) / 1e6


def _landmarks(params) -> int:
    return int(params.get("landmarks") or 0)


COMMON = {
    "n_components": Param(2, "output dimensions", POSITIVE_INT),
    "standardize": Param(True, "z-score each embedding dimension before reducing", {"type": "boolean"}),
}  # every reducer takes these
COMMON_PARAMS = {name: param.default for name, param in COMMON.items()}
NEIGHBOURS = Param(None, "min(15, max(5, N // 100)), the reference toolkit's rule", POSITIVE_INT)
REDUCER_METHODS: dict[str, Method] = {
    "tsne": reducer(
        _tsne,
        {
            "perplexity": Param(None, "min(30, max(5, N // 50)), the reference toolkit's rule", number(above=0)),
            "implementation": Param(
                "auto",
                "sklearn (Barnes-Hut, the reference's), opentsne (FFT gradients), "
                "or auto: scikit-learn up to fft_above points, openTSNE's FFT method above",
                choice("auto", "sklearn", "opentsne"),
            ),
            "fft_above": Param(
                20000,
                "auto: the size from which openTSNE is used (paper-size samples stay on scikit-learn)",
                POSITIVE_INT,
            ),
            "n_jobs": Param(1, "threads", integer(-1)),
        },
        memory=lambda n, d, p: peak_mb(n, d, per_point=12_000, season_per_point=8_000),
    ),
    "umap": reducer(
        _umap,
        {
            "n_neighbors": Param(
                None,
                "min(15, max(5, N // 100)), the reference toolkit's rule; UMAP runs on the exact kNN graph with "
                "each point its own first neighbour at distance 0",
                POSITIVE_INT,
            ),
            "min_dist": Param(0.1, "UMAP's min_dist", number(minimum=0)),
        },
        memory=lambda n, d, p: peak_mb(n, d, per_point=16_000, season_per_point=4_400),
    ),
    "pca": reducer(_pca, memory=lambda n, d, p: peak_mb(n, d, per_point=2_000, season_per_point=1_400)),
    "isomap": reducer(
        _isomap,
        {
            "n_neighbors": NEIGHBOURS,
            "landmarks": Param(
                None,
                "null: exact (N x N geodesics); m: landmark Isomap, geodesics from m random points (m x N memory), "
                "equal to the exact method when m = N; for large N (e.g. 1000)",
                integer(10),
            ),
        },
        memory=lambda n, d, p: (
            peak_mb(n, d, per_point=4_000, landmarks=_landmarks(p), per_landmark_point=4, season_per_point=0)
            if _landmarks(p)
            else peak_mb(n, d, quadratic=24)
        ),
    ),
    "kernel_pca": reducer(
        _kernel_pca,
        {
            "kernel": Param("rbf", "the kernel", choice("rbf", "poly", "sigmoid", "cosine", "linear")),
            "gamma": Param(None, "1 / n_features (scikit-learn's default)", number(above=0)),
            "landmarks": Param(
                None,
                "null: exact (N x N kernel); m: Nystroem feature map on m landmarks, then PCA (m x N memory)",
                integer(10),
            ),
        },
        memory=lambda n, d, p: (
            peak_mb(n, d, landmarks=_landmarks(p), per_landmark_point=10)
            if _landmarks(p)
            else peak_mb(n, d, quadratic=9)
        ),
    ),
}
SCALABLE_REDUCERS = {
    "isomap": "isomap with landmarks: 1000 (landmark Isomap)",
    "kernel_pca": "kernel_pca with landmarks: 1000 (Nystroem)",
}


def resolve_reduction(x: np.ndarray, spec: dict, seed: int, overwrite: bool = False) -> tuple[np.ndarray, dict]:
    """(coordinates, every parameter as used): z-score ``x`` unless ``standardize: false``, then reduce.

    ``overwrite``: above ``LARGE_N`` points a float32 ``x`` is z-scored in place instead of copied
    (the reduce job passes its own copy of the sampled rows: 4 bytes per value in all)."""
    method = spec["method"]
    if method not in REDUCER_METHODS:
        raise ReducerError(f"unknown reducer method '{method}'; known: {sorted(REDUCER_METHODS)}")
    params = REDUCER_METHODS[method].resolved_params(spec)
    if len(x) > LARGE_N:
        x, prepared = season_input(x, params["standardize"], method in PRE_PCA_METHODS, seed, overwrite)
    else:  # the reference's path, byte for byte
        x, prepared = np.asarray(x, dtype=np.float64), {}
        if params["standardize"]:
            from sklearn.preprocessing import StandardScaler  # here: the Snakefile imports this registry at parse

            x = StandardScaler().fit_transform(x)
    reduced, used = REDUCER_METHODS[method].fit(x, params, seed)
    reduced = np.asarray(reduced, dtype=np.float32)
    if not np.isfinite(reduced).all():
        raise ReducerError(f"{method} produced non-finite coordinates")
    return reduced, {"method": method, **params, **prepared, **used}


def zscore_inplace(x: np.ndarray, scale: bool = True) -> None:
    """StandardScaler's z-score (population std, a constant feature left at scale 1) of a float32
    matrix, in place: the means and variances are summed in float64 block by block."""
    mean = x.mean(axis=0, dtype=np.float64)
    squares = np.zeros(x.shape[1])
    for start in range(0, len(x), CHUNK_ROWS):
        block = x[start : start + CHUNK_ROWS] - mean
        squares += np.einsum("ij,ij->j", block, block)
    std = np.sqrt(squares / len(x))
    std[std == 0] = 1.0
    factor = (1.0 / std) if scale else np.ones_like(std)
    for start in range(0, len(x), CHUNK_ROWS):
        block = x[start : start + CHUNK_ROWS]
        block -= mean.astype(np.float32)
        block *= factor.astype(np.float32)


def season_input(
    x: np.ndarray, standardize: bool, pre_pca: bool, seed: int, overwrite: bool = False
) -> tuple[np.ndarray, dict]:
    """A large input as float32, z-scored (or only centred) in place: in ``x`` itself when
    ``overwrite`` allows it, else in one copy; then for the neighbour-based reducers its first
    ``PRE_PCA_DIMS`` principal components (randomized SVD of the centred matrix: no copy of it)."""
    owned = overwrite and x.dtype == np.float32 and x.flags.c_contiguous and x.flags.writeable
    x = x if owned else np.array(x, dtype=np.float32)
    zscore_inplace(x, scale=standardize)
    used = {"input": "float32"}
    if pre_pca and x.shape[1] > PRE_PCA_DIMS:
        from sklearn.utils.extmath import randomized_svd

        u, s, _ = randomized_svd(x, PRE_PCA_DIMS, random_state=seed)
        del x
        x = (u * s).astype(np.float32, copy=False)
        used["pre_reduction"] = f"pca{PRE_PCA_DIMS}"
    return x, used


def reduce(x: np.ndarray, spec: dict, seed: int) -> np.ndarray:
    """z-score ``x`` (unless ``standardize: false``) and reduce it per ``spec['method']``."""
    return resolve_reduction(x, spec, seed)[0]


def reduced_coordinates(points_frame) -> np.ndarray:
    """The x0, x1, ... columns a reduction wrote, as an (N, n_components) array."""
    return points_frame[[c for c in points_frame.columns if c.startswith("x")]].to_numpy()
