"""What the review page needs from the embeddings, computed when the page is written.

* ``nearest_neighbours``: each photo's k nearest photos (cosine, the model's full embedding), from
  which the page computes live label suggestions as the reviewer names clusters.
* ``similarity_order``: one path through all photos: clusters chained by their centres' similarity,
  inside each cluster its core in dendrogram leaf order (lookalikes side by side) then the photos
  whose neighbours mostly lie in other clusters, grouped by where those neighbours are.
* ``subgroups``: the sub-groups a cluster's embeddings form, which the page's *split* creates.

All of it is deterministic: the same photos and embeddings give the same page.
"""

from __future__ import annotations

import numpy as np

NEIGHBOURS = 10  # per photo, carried in the page
CORE_AGREEMENT = 0.5  # a photo is in its cluster's core when at least this share of its neighbours is there
MAX_LINKAGE = 4000  # larger clusters are ordered by a projection instead of a dendrogram (memory: n^2)
MAX_SUBGROUPS = 4
MIN_SPLIT = 6  # clusters smaller than this are not offered a split
KNN_DIMS = 128  # above 20,000 photos the neighbour search runs on this many principal components


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1 (cosine similarity becomes a dot product); zero rows stay zero."""
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms > 0, norms, 1)


def _projected(unit: np.ndarray, dims: int) -> np.ndarray:
    """The first ``dims`` principal components, rescaled to unit rows (a fast stand-in for large n)."""
    centred = unit - unit.mean(axis=0)
    sample = centred[np.linspace(0, len(centred) - 1, min(len(centred), 20_000)).astype(int)]
    _, _, vt = np.linalg.svd(sample, full_matrices=False)
    return unit_rows(centred @ vt[:dims].T)


CLASSIFIER_DIMS = 32  # the review page's classifier sees this many principal components of each photo


def classifier_features(matrix: np.ndarray, dims: int = CLASSIFIER_DIMS) -> np.ndarray:
    """Each photo's first ``dims`` principal components of its unit embedding, as int8 (one scale for the
    whole run): what the review page fits its suggestions on, compact enough for 100,000 photos
    (3.2 MB). Fewer columns where the run has fewer photos or dimensions."""
    unit = unit_rows(matrix)
    if len(unit) < 2:
        return np.zeros((len(unit), 0), np.int8)
    centred = unit - unit.mean(axis=0)
    sample = centred[np.linspace(0, len(centred) - 1, min(len(centred), 20_000)).astype(int)]
    _, _, vt = np.linalg.svd(sample, full_matrices=False)
    projected = centred @ vt[: min(dims, len(vt))].T
    scale = np.abs(projected).max()
    return np.round(projected / (scale if scale > 0 else 1) * 127).astype(np.int8)


def reviewed_centres(features: np.ndarray, labels) -> dict[str, dict]:
    """Per reviewed species, its photos' count and the sum of their unit ``classifier_features`` rows
    (as the page normalises them): a week's page adds them to its classifier's centres, so its
    suggestions rest on the reviewed photos' labels, not only on the week's own names."""
    rows = unit_rows(features)
    labels = np.asarray(labels, dtype=str)
    return {
        name: {"n": int((labels == name).sum()), "sum": np.round(rows[labels == name].sum(axis=0), 4).tolist()}
        for name in sorted(set(labels))
    }


BLOCK_ENTRIES = 16_000_000  # similarities held at a time (64 MB as float32): rows per block = this / N


def block_rows(n: int, largest: int = 2048) -> int:
    """Rows per block of an (rows x n) similarity computation, so that its memory stays flat in n."""
    return int(max(16, min(largest, BLOCK_ENTRIES // max(n, 1))))


def nearest_neighbours(
    matrix: np.ndarray, k: int = NEIGHBOURS, chunk: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(indices, cosine similarities) of each row's ``k`` nearest other rows, nearest first."""
    unit = unit_rows(matrix)
    n = len(unit)
    k = min(k, n - 1)
    if k <= 0:
        return np.zeros((n, 0), np.int64), np.zeros((n, 0), np.float32)
    if n > 20_000 and unit.shape[1] > KNN_DIMS:
        unit = _projected(unit, KNN_DIMS)
    chunk = chunk or block_rows(n)
    indices = np.empty((n, k), np.int64)
    similarities = np.empty((n, k), np.float32)
    for start in range(0, n, chunk):
        block = unit[start : start + chunk] @ unit.T
        rows = np.arange(len(block))
        block[rows, start + rows] = -np.inf  # never its own neighbour
        top = np.argpartition(block, n - k, axis=1)[:, n - k :]
        top_sims = np.take_along_axis(block, top, axis=1)
        # nearest first; ties broken by index so the result does not depend on the partition
        order = np.lexsort((top, -top_sims), axis=1)
        indices[start : start + chunk] = np.take_along_axis(top, order, axis=1)
        similarities[start : start + chunk] = np.take_along_axis(top_sims, order, axis=1)
    return indices, similarities


def _leaf_order(unit: np.ndarray) -> np.ndarray:
    """Positions of ``unit``'s rows along a similarity path: average-linkage dendrogram leaves."""
    if len(unit) <= 2:
        return np.arange(len(unit))
    if len(unit) > MAX_LINKAGE:
        centred = unit - unit.mean(axis=0)
        _, _, vt = np.linalg.svd(centred[:: max(1, len(unit) // 4000)], full_matrices=False)
        return np.argsort(centred @ vt[0], kind="stable")
    from scipy.cluster.hierarchy import leaves_list, linkage

    distances = np.clip(1.0 - unit @ unit.T, 0, 2)
    condensed = distances[np.triu_indices(len(unit), 1)]
    return leaves_list(linkage(condensed, method="average"))


def _centre_first(unit: np.ndarray, order: np.ndarray) -> np.ndarray:
    """The path oriented so that it starts at the end nearer the group's centre."""
    if len(order) < 2:
        return order
    centre = unit.mean(axis=0)
    return order if unit[order[0]] @ centre >= unit[order[-1]] @ centre else order[::-1]


def neighbour_agreement(neighbours: np.ndarray, clusters: np.ndarray) -> np.ndarray:
    """Per photo, the share of its neighbours in its own cluster."""
    if neighbours.shape[1] == 0:
        return np.ones(len(clusters))
    return (clusters[neighbours] == clusters[:, None]).mean(axis=1)


def _majority_elsewhere(neighbours: np.ndarray, clusters: np.ndarray, index: int) -> int:
    """The cluster most of a photo's neighbours outside its own cluster are in (-2: none)."""
    others = clusters[neighbours[index]]
    others = others[others != clusters[index]]
    if not len(others):
        return -2
    values, counts = np.unique(others, return_counts=True)
    return int(values[np.argmax(counts)])


def similarity_order(matrix: np.ndarray, clusters: np.ndarray, neighbours: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the photos in one similarity path, per photo whether it is in its cluster's core).

    ``clusters`` is each photo's place on the page (its cluster; doubtful photos their own key).
    Filtering the path by cluster gives each cluster's order: core first, then the rest grouped by
    the cluster their neighbours point to, so misfits gather at the end, lookalikes together.
    """
    unit = unit_rows(matrix)
    clusters = np.asarray(clusters)
    agreement = neighbour_agreement(neighbours, clusters)
    core = agreement >= CORE_AGREEMENT
    ids = np.unique(clusters)
    centres = unit_rows(np.stack([unit[clusters == c].mean(axis=0) for c in ids])) if len(ids) else unit[:0]
    path = []
    for c in ids[_leaf_order(centres)]:
        members = np.flatnonzero(clusters == c)
        inside, outside = members[core[members]], members[~core[members]]
        if len(inside):
            path.extend(inside[_centre_first(unit[inside], _leaf_order(unit[inside]))])
        if len(outside):
            elsewhere = np.array([_majority_elsewhere(neighbours, clusters, i) for i in outside])
            similarity = unit[outside] @ unit[members].mean(axis=0)
            path.extend(outside[np.lexsort((-similarity, elsewhere))])
    return np.asarray(path, dtype=np.int64), core


def mean_silhouette(distances: np.ndarray, labels: np.ndarray) -> float:
    """The mean silhouette of ``labels`` (two or more) on a square distance matrix, as scikit-learn's
    ``silhouette_score(metric="precomputed")`` (a photo alone in its group scores 0); here so that the
    page's job does not import scikit-learn (2 s) for a cluster's few hundred photos."""
    ids, own = np.unique(labels, return_inverse=True)
    one_hot = np.zeros((len(ids), len(labels)))
    one_hot[own, np.arange(len(labels))] = 1.0
    sizes = one_hot.sum(axis=1)
    mean_to = (distances @ one_hot.T) / sizes  # each photo's mean distance to each group (itself included)
    rows = np.arange(len(labels))
    own_size = sizes[own]
    a = mean_to[rows, own] * own_size / np.maximum(own_size - 1, 1)  # itself excluded
    mean_to[rows, own] = np.inf
    b = mean_to.min(axis=1)
    larger = np.maximum(a, b)
    scores = np.divide(b - a, larger, out=np.zeros(len(labels)), where=larger > 0)
    return float(np.where(own_size > 1, scores, 0.0).mean())


def subgroups(matrix: np.ndarray, clusters: np.ndarray) -> np.ndarray:
    """Per photo, its sub-group inside its cluster (0..), or -1 where no split is offered.

    Sub-groups: the cut of the cluster's average-linkage dendrogram (cosine) into 2..4 groups with
    the best silhouette; none when every cut scores below 0.05 (nothing to split) or the cluster is small.
    """
    from scipy.cluster.hierarchy import fcluster, linkage

    unit = unit_rows(matrix)
    result = np.full(len(clusters), -1, np.int64)
    for c in np.unique(clusters):
        members = np.flatnonzero(clusters == c)
        if len(members) < MIN_SPLIT or len(members) > MAX_LINKAGE:
            continue
        distances = np.clip(1.0 - unit[members] @ unit[members].T, 0, 2)
        np.fill_diagonal(distances, 0)
        tree = linkage(distances[np.triu_indices(len(members), 1)], method="average")
        best, best_score = None, 0.05
        for m in range(2, min(MAX_SUBGROUPS, len(members) // 2) + 1):
            cut = fcluster(tree, m, criterion="maxclust")
            if len(np.unique(cut)) < 2:
                continue
            score = mean_silhouette(distances, cut)
            if score > best_score:
                best, best_score = cut, score
        if best is not None:
            # numbered by size, largest first, so sub-group 0 is the one that keeps the cluster's name
            values, counts = np.unique(best, return_counts=True)
            rank = {v: r for r, v in enumerate(values[np.lexsort((values, -counts))])}
            result[members] = [rank[v] for v in best]
    return result


def nearest_other_centres(matrix: np.ndarray, clusters: np.ndarray, n: int = 2) -> np.ndarray:
    """Per photo, the ``n`` clusters (ids >= 0) whose centres are most similar to it, its own excluded
    (-1 where there are fewer): the page's second opinion beside the neighbours' vote."""
    unit = unit_rows(matrix)
    clusters = np.asarray(clusters)
    ids = np.unique(clusters[clusters >= 0])
    result = np.full((len(unit), n), -1, np.int64)
    if len(ids) == 0:
        return result
    centres = unit_rows(np.stack([unit[clusters == c].mean(axis=0) for c in ids]))
    step = block_rows(len(ids), largest=65_536)
    for start in range(0, len(unit), step):  # block by block: photos x clusters never held whole
        similarity = unit[start : start + step] @ centres.T
        similarity[clusters[start : start + step, None] == ids[None, :]] = -np.inf
        ranked = np.argsort(-similarity, axis=1, kind="stable")[:, :n]
        found = ids[ranked]
        found[np.take_along_axis(similarity, ranked, axis=1) == -np.inf] = -1
        result[start : start + step, : found.shape[1]] = found
    return result


def adjacent_same_share(order: np.ndarray, labels: np.ndarray, blocks: np.ndarray | None = None) -> float:
    """Share of adjacent pairs in ``order`` with the same label (only pairs inside one block, if given)."""
    labels = np.asarray(labels)[order]
    pairs = (
        np.ones(len(order) - 1, bool)
        if blocks is None
        else np.asarray(blocks)[order][1:] == np.asarray(blocks)[order][:-1]
    )
    if len(order) < 2 or not pairs.any():
        return float("nan")
    return float((labels[1:] == labels[:-1])[pairs].mean())
