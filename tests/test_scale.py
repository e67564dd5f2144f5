"""Scale: memory estimates refuse a cell before any job runs; the scalable forms are honest approximations."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import v_measure_score

from conftest import run_snakemake, tiny_config, write_config
from zsc.evaluation.metrics import dbcv
from zsc.methods.clusterers import CLUSTERER_METHODS, fit_cluster
from zsc.methods.memory import cluster_mb, reduce_mb
from zsc.methods.reducers import REDUCER_METHODS, resolve_reduction


def blobs(n_per: int = 150, k: int = 4, dim: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    truth = np.repeat(np.arange(k), n_per)
    return rng.normal(size=(k, dim))[truth] * 3 + rng.normal(size=(len(truth), dim)), truth


def _same_up_to_sign(a: np.ndarray, b: np.ndarray) -> bool:
    return all(
        min(np.abs(a[:, i] - b[:, i]).max(), np.abs(a[:, i] + b[:, i]).max()) < 1e-3 * np.abs(a).max()
        for i in range(a.shape[1])
    )


def test_every_method_declares_its_memory():
    assert all(method.memory for method in REDUCER_METHODS.values())
    assert all(method.memory for method in CLUSTERER_METHODS.values())


def test_quadratic_methods_exceed_8_gb_at_100000_points_and_their_scalable_forms_do_not():
    n, d = 100_000, 768
    assert reduce_mb({"method": "isomap"}, n, d) > 8000 and reduce_mb({"method": "kernel_pca"}, n, d) > 8000
    assert cluster_mb({"method": "ward"}, n) > 8000
    assert reduce_mb({"method": "isomap", "landmarks": 1000}, n, d) < 8000
    assert reduce_mb({"method": "kernel_pca", "landmarks": 1000}, n, d) < 8000
    assert cluster_mb({"method": "ward", "connectivity": "knn"}, n) < 8000
    for method in ("tsne", "umap", "pca"):
        assert reduce_mb({"method": method}, n, d) < 8000
    for spec in ({"method": "hdbscan"}, {"method": "dbscan"}, {"method": "gmm"}, {"method": "kmeans"}):
        assert cluster_mb(spec, n) < 8000
    # paper size (12,000 points, 1,536 dims) fits the default 8,000 MB with the exact methods
    assert all(reduce_mb({"method": m}, 12_000, 1536) < 8000 for m in REDUCER_METHODS)
    assert all(cluster_mb({"method": m}, 12_000) < 8000 for m in CLUSTERER_METHODS)


def test_landmark_forms_equal_the_exact_methods_when_every_point_is_a_landmark():
    x, _ = blobs()
    for method in ("isomap", "kernel_pca"):
        exact, _ = resolve_reduction(x, {"method": method}, 0)
        landmark, used = resolve_reduction(x, {"method": method, "landmarks": len(x)}, 0)
        assert _same_up_to_sign(exact, landmark), method


def test_landmark_isomap_joins_a_disconnected_graph_like_scikit_learn():
    x, truth = blobs(k=4, dim=40)  # 4 far-apart blobs: the 6-NN graph has 4 components
    scores = {}
    for name, spec in (("exact", {"method": "isomap"}), ("landmarks", {"method": "isomap", "landmarks": 200})):
        points, _ = resolve_reduction(x, spec, 0)
        assert np.isfinite(points).all()
        scores[name] = v_measure_score(truth, fit_cluster(points, {"method": "ward"}, 4, 0)[0])
    assert scores["landmarks"] >= scores["exact"] - 0.05, scores


def test_ward_with_knn_connectivity_finds_the_same_clusters():
    rng = np.random.default_rng(0)
    truth = np.repeat(np.arange(5), 200)
    x = rng.normal(size=(5, 2))[truth] * 10 + rng.normal(size=(len(truth), 2))
    full, _, _ = fit_cluster(x, {"method": "ward"}, 5, 0)
    knn, used, _ = fit_cluster(x, {"method": "ward", "connectivity": "knn"}, 5, 0)
    assert used["n_neighbors"] == 10
    assert v_measure_score(truth, knn) >= v_measure_score(truth, full) - 0.01
    assert v_measure_score(truth, full) > 0.95


def test_tsne_auto_uses_scikit_learn_up_to_the_threshold_and_opentsne_above():
    x, _ = blobs(n_per=50)
    assert resolve_reduction(x, {"method": "tsne"}, 0)[1]["implementation"] == "sklearn"
    assert resolve_reduction(x, {"method": "tsne", "fft_above": 100}, 0)[1]["implementation"] == "opentsne"


def test_up_to_large_n_the_reduction_is_the_reference_float64_path_bit_for_bit():
    from sklearn.decomposition import PCA
    from sklearn.preprocessing import StandardScaler

    x, _ = blobs(n_per=60)
    x = x.astype(np.float32)
    reference = PCA(n_components=2, random_state=0).fit_transform(StandardScaler().fit_transform(x.astype(np.float64)))
    reduced, used = resolve_reduction(x, {"method": "pca"}, 0)
    assert np.array_equal(reduced, reference.astype(np.float32))
    assert "input" not in used and "pre_reduction" not in used  # the reference grid's params stay as they were


def test_zscore_in_place_matches_standard_scaler_block_by_block(monkeypatch):
    from sklearn.preprocessing import StandardScaler

    from zsc.methods import reducers

    monkeypatch.setattr(reducers, "CHUNK_ROWS", 37)  # several blocks on a small matrix
    x, _ = blobs(n_per=100, dim=20)
    x[:, 3] = 5.0  # a constant feature keeps scale 1, as in StandardScaler
    expected = StandardScaler().fit_transform(x.astype(np.float64))
    inplace = x.astype(np.float32)
    reducers.zscore_inplace(inplace)
    assert inplace.dtype == np.float32 and np.abs(inplace - expected).max() < 1e-5


def test_above_large_n_the_input_is_one_float32_copy_and_neighbour_reducers_get_a_pca_first(monkeypatch):
    """LARGE_N lowered to 200 for the test, so that the season path runs on 600 points."""
    from zsc.methods import reducers

    monkeypatch.setattr(reducers, "LARGE_N", 200)
    x, truth = blobs(n_per=150, k=4, dim=80)
    x = x.astype(np.float32)
    before = x.copy()
    points, used = resolve_reduction(x, {"method": "tsne"}, 0)
    assert np.array_equal(x, before)  # the caller's matrix is never changed
    assert used["input"] == "float32" and used["pre_reduction"] == f"pca{reducers.PRE_PCA_DIMS}"
    assert points.shape == (600, 2) and v_measure_score(truth, fit_cluster(points, {"method": "ward"}, 4, 0)[0]) > 0.9
    _, used = resolve_reduction(x, {"method": "umap"}, 0)
    assert used["pre_reduction"] and used["knn"] == "nndescent"
    _, used = resolve_reduction(x, {"method": "pca"}, 0)
    assert used["input"] == "float32" and "pre_reduction" not in used  # PCA is its own pre-reduction
    owned = x.copy()
    resolve_reduction(owned, {"method": "pca"}, 0, overwrite=True)  # the reduce job's own rows: z-scored in place
    assert np.abs(owned.mean(axis=0)).max() < 1e-4 and np.abs(owned.std(axis=0) - 1).max() < 1e-4
    # the estimate follows: 4 bytes per value above LARGE_N (the job's rows, z-scored in place) instead of 20
    per_value = (reduce_mb({"method": "pca"}, 1_000, 768) - reduce_mb({"method": "pca"}, 1_000, 0)) / (
        1_000 * 768 / 1e6
    )
    assert np.isclose(per_value, 4)


def test_dbcv_is_sampled_above_its_cap_and_exact_below():
    rng = np.random.default_rng(0)
    truth = np.repeat(np.arange(3), 400)
    points = rng.normal(size=(3, 2))[truth] * 8 + rng.normal(size=(len(truth), 2))
    exact = dbcv(points, truth)
    assert dbcv(points, truth, max_points=5000) == exact
    sampled = dbcv(points, truth, max_points=600)  # an estimate on 600 random points: bounded memory, seeded
    assert np.isfinite(sampled) and sampled == dbcv(points, truth, max_points=600) and -1 <= sampled <= 1


def test_cells_that_cannot_fit_fail_the_dry_run_naming_the_cell_n_estimate_and_alternative(tmp_path):
    config = tiny_config(
        reducers={"pca": {"method": "pca"}, "isomap": {"method": "isomap"}},
        clusterers={"ward": {"method": "ward"}, "ward_knn": {"method": "ward", "connectivity": "knn"}},
    )
    config["datasets"] = {
        "big": {"demo": {"n_species": 10, "per_species": 10_000, "seed": 0, "size": 32, "nested": False}}
    }
    config["samplings"] = {"all": {"kind": "all"}}
    result = run_snakemake(tmp_path, write_config(tmp_path, config), "-n", check=False, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    problems = [line for line in output.splitlines() if line.startswith("  - cell big/")]
    assert problems == [
        "  - cell big/rand_mnv2/isomap/*/all: isomap on N=100,000 points x 1024 dims needs ~240.7 GB, over the reduce "
        "job's mem_mb=8000; use isomap with landmarks: 1000 (landmark Isomap)",
        "  - cell big/*/*/ward/all: ward on N=100,000 points needs ~80.2 GB, over the cluster job's mem_mb=8000; use "
        "ward with connectivity: knn (merges along a 10-nearest-neighbour graph)",
    ], output[-3000:]
    assert not (tmp_path / "results").exists() and not (tmp_path / "resources").exists()


def test_the_pages_neighbours_and_nearest_centres_are_the_same_block_by_block(monkeypatch):
    """The review page's similarity blocks shrink as N grows (memory flat in N): blocks of 16 rows
    here give what one block gives."""
    from zsc.sorting import similarity

    x, truth = blobs(n_per=40, k=5, dim=30)
    whole = similarity.nearest_neighbours(x, chunk=len(x))
    centres = similarity.nearest_other_centres(x, truth, 3)
    unit = similarity.unit_rows(x)
    brute = unit @ unit.T
    np.fill_diagonal(brute, -np.inf)
    assert np.array_equal(np.sort(whole[0], axis=1), np.sort(np.argsort(-brute, axis=1)[:, :10], axis=1))
    monkeypatch.setattr(similarity, "BLOCK_ENTRIES", 16 * len(x))
    assert similarity.block_rows(len(x)) == 16
    blocked = similarity.nearest_neighbours(x)
    assert np.array_equal(blocked[0], whole[0]) and np.array_equal(blocked[1], whole[1])
    monkeypatch.setattr(similarity, "BLOCK_ENTRIES", 16 * 5)
    assert np.array_equal(similarity.nearest_other_centres(x, truth, 3), centres)


def test_a_season_sized_sort_doubts_by_the_simplified_silhouette_not_the_quadratic_one(monkeypatch):
    """EXACT_SILHOUETTE_UP_TO lowered to 100 for the test, so that the season rule runs on 403 points."""
    from sklearn.metrics import silhouette_samples

    from zsc.sorting import assign

    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]])
    truth = np.repeat(np.arange(4), 100)
    points = centres[truth] + rng.normal(size=(400, 2))
    misplaced = np.array([[9.5, 0.5], [0.2, 9.8], [9.9, 9.7]])  # in cluster 0's label, sitting in the others
    points, labels = np.vstack([points, misplaced]), np.concatenate([truth, [0, 0, 0]])
    exact = silhouette_samples(points, labels)
    monkeypatch.setattr(assign, "EXACT_SILHOUETTE_UP_TO", 100)
    simplified = assign.silhouette_scores(points, labels)
    assert (simplified[-3:] < 0).all() and (exact[-3:] < 0).all()
    assert ((simplified < 0) == (exact < 0)).mean() > 0.98
    own = points[labels == 1].mean(axis=0)  # one point by hand: a to its centre, b to the nearest other
    others = [points[labels == c].mean(axis=0) for c in (0, 2, 3)]
    a, b = np.linalg.norm(points[150] - own), min(np.linalg.norm(points[150] - c) for c in others)
    assert np.isclose(simplified[150], (b - a) / max(a, b))
    monkeypatch.setattr(assign, "CENTRE_BLOCK_ENTRIES", 8)  # blocks of 256 rows give the same scores
    assert np.allclose(assign.silhouette_scores(points, labels), simplified)
    doubtful, _, reasons = assign.doubt(points, labels, 0.0)
    assert doubtful[-3:].all() and all(r.startswith("between clusters") for r in np.array(reasons)[-3:])
