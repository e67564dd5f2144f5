"""One scale measurement in a fresh process: prints {"seconds", "peak_mb", ...} as JSON.

    python bench/scale_child.py reduce '{"method": "tsne"}' 100000 OUT_DIR
    python bench/scale_child.py cluster '{"method": "ward", "connectivity": "knn"}' 100000 OUT_DIR
    python bench/scale_child.py metrics '{}' 100000 OUT_DIR

Data: 768-d synthetic embeddings with species-like structure (60 species, long-tailed sizes,
each a Gaussian around its own centre in a 64-d subspace plus isotropic noise); clusterers and
metrics run on the 2-D t-SNE output of the same N (written by the reduce run of t-SNE).
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

import numpy as np

N_SPECIES, DIM, LATENT = 60, 768, 64


def species_like(n: int, seed: int = 0, labels_only: bool = False) -> tuple[np.ndarray | None, np.ndarray]:
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, N_SPECIES + 1) ** 0.8
    labels = rng.choice(N_SPECIES, size=n, p=weights / weights.sum())
    if labels_only:  # clusterers work on the 2-D points: the 768-d data would only inflate their peak
        return None, labels
    centres = rng.normal(scale=3.0, size=(N_SPECIES, LATENT))
    basis = np.linalg.qr(rng.normal(size=(DIM, LATENT)))[0].T  # (LATENT, DIM), orthonormal rows
    latent = centres[labels] + rng.normal(size=(n, LATENT))
    x = latent @ basis * 4.0 + rng.normal(scale=0.5, size=(n, DIM))
    return x.astype(np.float32), labels


def main() -> None:
    stage, spec, n, out = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
    x, labels = species_like(n, labels_only=stage != "reduce")
    points_path = out / f"tsne_{n}.npy"
    result = {}
    if stage == "reduce":
        from zsc.methods.reducers import resolve_reduction

        started = time.perf_counter()
        points, used = resolve_reduction(x, spec, 0)
        result = {"seconds": time.perf_counter() - started, "used": used}
        if spec["method"] == "tsne":
            np.save(points_path, points)
    else:
        points = np.load(points_path)
        from zsc.evaluation import metrics

        if stage == "cluster":
            from zsc.methods.clusterers import fit_cluster

            started = time.perf_counter()
            predicted, used, _ = fit_cluster(points, spec, N_SPECIES, 0)
            result = {"seconds": time.perf_counter() - started, "used": used}
        else:  # the label-free metrics a cell computes: silhouette (sampled) and DBCV
            from zsc.methods.clusterers import fit_cluster

            predicted = fit_cluster(
                points, {"method": "hdbscan", "min_cluster_size": 100, "min_samples": 30}, N_SPECIES, 0
            )[0]
            started = time.perf_counter()
            result = {"silhouette": metrics.silhouette(points, predicted), "dbcv": metrics.dbcv(points, predicted)}
            result["seconds"] = time.perf_counter() - started
        from sklearn.metrics import v_measure_score

        result["v_measure"] = float(v_measure_score(labels, predicted))
    result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result, default=str))


if __name__ == "__main__":
    main()
