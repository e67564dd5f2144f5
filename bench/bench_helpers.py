"""Shared by bench.py and the fresh processes it starts."""

import time

# every paper method as the scale and season benches run them (one home: bench.py, season_bench.py)
SCALE_REDUCERS = {
    "tsne": {"method": "tsne"},  # auto: scikit-learn up to 20,000 points, openTSNE's FFT above
    "umap": {"method": "umap"},
    "pca": {"method": "pca"},
    "isomap": {"method": "isomap"},
    "isomap_landmarks": {"method": "isomap", "landmarks": 1000},
    "kernel_pca": {"method": "kernel_pca"},
    "kernel_pca_nystroem": {"method": "kernel_pca", "landmarks": 1000},
}
SCALE_CLUSTERERS = {
    "hdbscan": {"method": "hdbscan", "min_cluster_size": 100, "min_samples": 30},
    "dbscan": {"method": "dbscan"},
    "gmm": {"method": "gmm"},
    "kmeans": {"method": "kmeans"},
    "ward": {"method": "ward"},
    "ward_knn": {"method": "ward", "connectivity": "knn"},
}


def model_alone(model, batch, seconds: float = 8.0) -> float:
    """Images per second of ``model`` on one pre-loaded batch, repeated."""
    import torch

    with torch.inference_mode():
        model(batch)
        started, done = time.perf_counter(), 0
        while time.perf_counter() - started < seconds:
            model(batch)
            done += len(batch)
    return done / (time.perf_counter() - started)
