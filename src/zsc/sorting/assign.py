"""Sort unlabeled photos with one chosen setting: clusters, doubtful photos and their output names.

No labels are needed anywhere (the setting: zsc.sorting.setting).
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from zsc.io import InputError

MAX_NAME_BYTES = 255  # NAME_MAX of common file systems
EXACT_SILHOUETTE_UP_TO = 20_000  # photos; above, the simplified silhouette (distances to the centres)
CENTRE_BLOCK_ENTRIES = 4_000_000  # point-centre distances held at a time


def silhouette_scores(points: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Each point's silhouette: exact (scikit-learn, N x N distances) up to ``EXACT_SILHOUETTE_UP_TO``
    points; above, the simplified silhouette (Hruschka et al. 2004): a = the distance to its own
    cluster's centre, b = to the nearest other centre, (b - a) / max(a, b). The exact one is
    quadratic in N (hours at 10^6 photos), the simplified one N x clusters, block by block."""
    from sklearn.metrics import silhouette_samples

    if len(points) <= EXACT_SILHOUETTE_UP_TO:
        return silhouette_samples(points, labels)
    ids, own = np.unique(labels, return_inverse=True)
    centres = np.stack([points[own == c].mean(axis=0) for c in range(len(ids))])
    scores = np.empty(len(points))
    step = max(256, CENTRE_BLOCK_ENTRIES // len(ids))
    for start in range(0, len(points), step):
        block = slice(start, start + step)
        gaps = np.linalg.norm(points[block, None, :] - centres[None, :, :], axis=2)
        rows = np.arange(len(gaps))
        a = gaps[rows, own[block]].copy()
        gaps[rows, own[block]] = np.inf
        b = gaps.min(axis=1)
        larger = np.maximum(a, b)
        scores[block] = np.divide(b - a, larger, out=np.zeros(len(a)), where=larger > 0)
    return scores


def doubt(points: np.ndarray, labels: np.ndarray, min_silhouette: float) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Which images to set aside, the cluster each most likely belongs to, and why.

    Noise of a density clusterer is doubtful; so is an image whose silhouette is below
    ``min_silhouette`` (negative: it lies closer to another cluster than to its own; the simplified
    silhouette above ``EXACT_SILHOUETTE_UP_TO`` photos), for which the suggested cluster is the
    nearest other cluster centre.
    """
    from zsc.evaluation.metrics import NOISE, nearest_clusters  # here: scikit-learn; the page imports this module

    nearest, distance = nearest_clusters(points, labels)
    doubtful = labels == NOISE
    reasons = ["noise: no dense cluster around it" if d else "" for d in doubtful]
    kept = ~doubtful
    if len(np.unique(labels[kept])) >= 2:
        scores = np.full(len(labels), np.nan)
        scores[kept] = silhouette_scores(points[kept], labels[kept])
        ids = np.unique(labels[kept])
        centres = np.stack([points[labels == c].mean(axis=0) for c in ids])
        for index in np.flatnonzero(kept & (scores < min_silhouette)):
            gaps = np.linalg.norm(centres - points[index], axis=1)
            gaps[ids == labels[index]] = np.inf
            nearest[index], distance[index] = ids[np.argmin(gaps)], gaps.min()
            doubtful[index] = True
            reasons[index] = f"between clusters: silhouette {scores[index]:.2f} < {min_silhouette}"
    return doubtful, np.column_stack([nearest, distance]), reasons


class SortInputError(InputError):
    """An inbox the chosen setting cannot sort (too few photos for k, a group size over the inbox...)."""


def single_cluster(n: int) -> pd.DataFrame:
    """Every photo in cluster 0: the only sorting of one distinct photo (or of k=1)."""
    return pd.DataFrame(
        {
            "cluster": np.zeros(n, int),
            "doubtful": False,
            "reason": "",
            "nearest_cluster": np.zeros(n, int),
            "distance_to_cluster": np.zeros(n),
            "map_x": np.zeros(n),
            "map_y": np.zeros(n),
        }
    )


def assign_clusters(
    embeddings: np.ndarray,
    reducer_spec: dict,
    clusterer_spec: dict,
    k: int | None,
    seed: int,
    min_silhouette: float = 0.0,
    overwrite: bool = False,
) -> tuple[pd.DataFrame, dict]:
    """(per image: cluster (-1 = noise), whether it is doubtful and why, its likely cluster and distance;
    the parameters as used, recorded as a benchmark cell records them: ``reducer_params``, ``params``).

    ``embeddings`` are distinct photos (exact duplicates follow their twin, see ``sort_assign_job``).
    One photo, or k=1, is one cluster; k above the photo count, or a reducer or clusterer that cannot
    run on this few photos, is a :class:`SortInputError` with a one-line reason. ``overwrite``:
    ``embeddings`` are the caller's own copy, which a season-sized reduction may z-score in place.
    """
    from zsc.methods.clusterers import ClustererError, fit_cluster
    from zsc.methods.reducers import ReducerError, resolve_reduction

    n = len(embeddings)
    if n == 1 or k == 1:  # an inbox of identical photos included: one group, whatever k asked for
        return single_cluster(n), {"reducer_params": None, "params": None, "rule": "one distinct photo or k=1"}
    if k is not None and k > n:
        raise SortInputError(
            f"k={k} groups asked for, but the inbox has only {n} distinct usable photo(s); lower sort.<run>.k"
        )
    try:
        points, reducer_params = resolve_reduction(embeddings, reducer_spec, seed, overwrite)
    except (ReducerError, ValueError, np.linalg.LinAlgError) as error:
        raise SortInputError(
            f"reducer '{reducer_spec['method']}' cannot run on {n} distinct photo(s): {str(error).splitlines()[0]}"
        ) from None
    spec = {**clusterer_spec, "k": k} if k is not None else clusterer_spec
    try:
        labels, params, diagnostics = fit_cluster(points, spec, true_k=k or 0, seed=seed)
    except (ClustererError, ValueError) as error:
        raise SortInputError(
            f"clusterer '{clusterer_spec['method']}' cannot run on {n} distinct photo(s): {str(error).splitlines()[0]}"
        ) from None
    doubtful, nearest, reasons = doubt(points, labels, min_silhouette)
    frame = pd.DataFrame(
        {
            "cluster": labels,
            "doubtful": doubtful,
            "reason": reasons,
            "nearest_cluster": nearest[:, 0].astype(int),
            "distance_to_cluster": nearest[:, 1].round(6),
            # the reduction's first two axes: the review page's map
            "map_x": points[:, 0].round(4),
            "map_y": (points[:, 1] if points.shape[1] > 1 else np.zeros(n)).round(4),
        }
    )
    return frame, {"reducer_params": reducer_params, "params": params, **diagnostics}


def folder_name(cluster_id: int, doubtful: bool) -> str:
    return "doubtful" if doubtful else f"cluster_{cluster_id:03d}"


def output_name(image_id: str) -> str:
    """The photo's file name inside a cluster folder: its relative path with '%' and '/' escaped.

    Escaping is one-to-one, so two photos never share an output path (``cam2/IMG_1.jpg`` ->
    ``cam2%2FIMG_1.jpg``, while a photo named ``cam2__IMG_1.jpg`` keeps its name), and a photo
    keeps the same name in every run. A name over the file system's 255-byte limit (deep folders)
    keeps its end and is prefixed with a hash of the whole path.
    """
    name = image_id.replace("%", "%25").replace("/", "%2F")
    if len(name.encode()) <= MAX_NAME_BYTES:
        return name
    digest = hashlib.sha256(image_id.encode()).hexdigest()[:16]
    tail = name.encode()[-(MAX_NAME_BYTES - len(digest) - 2) :].decode(errors="ignore")
    return f"{digest}__{tail}"
