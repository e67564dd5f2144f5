"""The reference protocol, number for number: its clustering rules written out here, applied to the
same fixed 2-D points as ours; its metric formulas; the UMAP graph; the paper models' embeddings;
the split-balanced leaderboard."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from sklearn.cluster import DBSCAN, AgglomerativeClustering
from sklearn.metrics import (
    adjusted_mutual_info_score,
    adjusted_rand_score,
    completeness_score,
    homogeneity_score,
    v_measure_score,
)
from sklearn.mixture import GaussianMixture
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import LabelEncoder

from conftest import REPO
from zsc.evaluation.aggregate import leaderboard, summarise
from zsc.evaluation.metrics import external_metrics
from zsc.methods.clusterers import fit_cluster

# ---------------------------------------------------------------- the reference's rules, as written in its toolkit


def reference_estimate_eps(data, min_samples, multiplier=1.0):
    if len(data) <= min_samples:
        return 0.5
    distances, _ = NearestNeighbors(n_neighbors=min_samples).fit(data).kneighbors(data)
    return max(float(np.mean(distances[:, -1])) * multiplier, np.finfo(float).eps)


REFERENCE_DBSCAN = {"auto": (1.0, 5), "relaxed": (1.5, 20), "very_relaxed": (2.0, 30)}


def reference_evaluate(labels_true, labels_pred):
    encoded = LabelEncoder().fit_transform(labels_true)
    valid = labels_pred != -1
    if len(np.unique(labels_pred[valid])) <= 1:
        return {}
    return {
        name: score(encoded[valid], labels_pred[valid])
        for name, score in (
            ("v_measure", v_measure_score),
            ("homogeneity", homogeneity_score),
            ("completeness", completeness_score),
            ("ami", adjusted_mutual_info_score),
            ("ari", adjusted_rand_score),
        )
    }


@pytest.fixture(scope="module")
def points():
    """Six species as 2-D clouds of unequal spread and size, plus scattered points: a t-SNE-like map."""
    rng = np.random.default_rng(7)
    centres = rng.uniform(-40, 40, size=(6, 2))
    parts = [
        c + rng.normal(0, s, size=(n, 2)) for c, s, n in zip(centres, (1, 2, 3, 1.5, 4, 2), (80, 60, 120, 50, 90, 70))
    ]
    truth = np.repeat([f"sp{i}" for i in range(6)], [len(p) for p in parts])
    x = np.concatenate(parts)
    noise = rng.uniform(-50, 50, size=(25, 2))
    return np.concatenate([x, noise]), np.concatenate([truth, rng.choice(truth, 25)])


def _same_labels(ours, reference):
    np.testing.assert_array_equal(ours, reference)  # identical, not just ARI 1.0
    assert adjusted_rand_score(reference, ours) == 1.0


def test_hdbscan_as_the_reference(points):
    import hdbscan

    x, truth = points
    reference = hdbscan.HDBSCAN(min_cluster_size=15, min_samples=5, metric="euclidean").fit_predict(x)
    ours, used, _ = fit_cluster(x, {"method": "hdbscan", "min_cluster_size": 15, "min_samples": 5}, 6, 0)
    _same_labels(ours, reference)


@pytest.mark.parametrize("preset", sorted(REFERENCE_DBSCAN))
def test_dbscan_presets_as_the_reference(points, preset):
    x, _ = points
    multiplier, min_samples = REFERENCE_DBSCAN[preset]
    eps = reference_estimate_eps(x, min_samples, multiplier)
    reference = DBSCAN(eps=eps, min_samples=min_samples).fit_predict(x)
    spec = {"method": "dbscan"} if preset == "auto" else {"method": "dbscan", "preset": preset}  # auto: the default
    ours, used, _ = fit_cluster(x, spec, 6, 0)
    assert used["eps"] == pytest.approx(eps, rel=1e-12) and used["min_samples"] == min_samples
    _same_labels(ours, reference)


def test_ward_and_gmm_as_the_reference_with_bic_and_aic(points):
    x, _ = points
    _same_labels(
        fit_cluster(x, {"method": "ward", "k": "true_k"}, 6, 0)[0],
        AgglomerativeClustering(n_clusters=6, linkage="ward").fit_predict(x),
    )
    for seed in (0, 3):
        gmm = GaussianMixture(n_components=6, covariance_type="full", random_state=seed, n_init=5)
        reference = gmm.fit_predict(x)
        ours, used, diagnostics = fit_cluster(x, {"method": "gmm", "k": "true_k"}, 6, seed)  # n_init 5 by default
        assert used["n_init"] == 5
        _same_labels(ours, reference)
        assert diagnostics == {"bic": pytest.approx(gmm.bic(x), rel=1e-9), "aic": pytest.approx(gmm.aic(x), rel=1e-9)}


def test_metrics_equal_the_reference_formulas(points):
    x, truth = points
    for spec in (
        {"method": "hdbscan", "min_cluster_size": 15, "min_samples": 5},
        {"method": "dbscan"},
        {"method": "ward", "k": 4},
    ):
        labels = fit_cluster(x, spec, 6, 0)[0]
        reference = reference_evaluate(truth, labels)
        ours = external_metrics(truth, labels)
        for name, value in reference.items():
            assert abs(ours[f"{name}_retained"] - value) <= 1e-9, (spec, name)


def test_a_single_retained_cluster_has_no_score_as_in_the_reference():
    truth = np.array(["a"] * 5 + ["b"] * 5)
    one_cluster = np.array([0] * 8 + [-1] * 2)
    assert reference_evaluate(truth, one_cluster) == {}
    ours = external_metrics(truth, one_cluster)
    assert np.isnan(ours["v_measure_retained"]) and np.isnan(ours["completeness_retained"])
    assert ours["score_note"] == "1 retained cluster(s): *_retained scores undefined"


def test_summary_says_how_many_seeds_each_mean_covers():
    rows = [
        {
            "model": "m",
            "reducer": "r",
            "clusterer": "hdbscan",
            "sampling": "s",
            "split": "pooled",
            "seed": seed,
            "status": "ok",
            "v_measure_retained": v,
        }
        for seed, v in ((1, 0.8), (2, float("nan")), (3, 0.6))
    ]
    summary = summarise(pd.DataFrame(rows))
    assert summary.loc[0, "n_seeds"] == 3 and summary.loc[0, "v_measure_retained_n"] == 2
    assert summary.loc[0, "v_measure_retained_mean"] == pytest.approx(0.7)


# ---------------------------------------------------------------- reducers


def test_isomap_neighbours_follow_the_reference_rule():
    from zsc.methods.reducers import resolve_reduction, umap_neighbors

    assert umap_neighbors(6000) == 15 and umap_neighbors(300) == 5 and umap_neighbors(900) == 9
    x = np.random.default_rng(0).normal(size=(700, 8))
    _, used = resolve_reduction(x, {"method": "isomap"}, 0)
    assert used["n_neighbors"] == 7


def test_umap_graph_equals_umaps_own_exact_knn_graph():
    """Our precomputed kNN must give UMAP the graph it builds itself from exact distances."""
    from sklearn.metrics import pairwise_distances
    from umap.umap_ import fuzzy_simplicial_set

    from zsc.methods.reducers import exact_knn

    rng = np.random.default_rng(1)
    x = np.concatenate([rng.normal(c, 1.0, size=(150, 20)) for c in (0, 5, 9)])
    x = (x - x.mean(0)) / x.std(0)
    k = 15
    indices, distances = exact_knn(x, k)
    assert (indices[:, 0] == np.arange(len(x))).all() and (distances[:, 0] == 0).all()
    ours = fuzzy_simplicial_set(x, k, np.random.RandomState(0), "euclidean", knn_indices=indices, knn_dists=distances)[
        0
    ]
    exact = fuzzy_simplicial_set(pairwise_distances(x), k, np.random.RandomState(0), "precomputed")[0]
    difference = abs(ours - exact)
    assert difference.max() <= 1e-5 if difference.nnz else True


# ---------------------------------------------------------------- the paper's models


PAPER_EMBEDDINGS = {  # model -> (dimension, the reference's definition)
    "dinov3_vith16plus": (1280, "class token of last_hidden_state"),
    "dinov2_vitg14": (1536, "class token after the final norm"),
    "bioclip2_vitl14": (768, "encode_image"),
    "bioclip25_vith14": (1024, "encode_image (open_clip ViT-H-14 projects to 1024)"),
    "clip_vitl14": (768, "encode_image: projected"),
    "siglip_vitb16": (768, "vision pooler output (attention pool)"),
}


@pytest.mark.parametrize("name", sorted(PAPER_EMBEDDINGS))
def test_paper_models_embed_as_the_reference_defines_them(name):
    """Built on the meta device (no weights, no memory): output size and preprocessing."""
    from zsc.embedding.backbones import build_backbone

    spec = yaml.safe_load((REPO / "config" / "paper.yaml").read_text())["models"][name]
    with torch.device("meta"):
        backbone = build_backbone(name, {"pooling": "default", **spec, "weights": "random"})
        out = backbone.forward(torch.zeros(2, 3, 224, 224, device="meta"))
    assert tuple(out.shape) == (2, PAPER_EMBEDDINGS[name][0]), PAPER_EMBEDDINGS[name][1]
    assert backbone.preprocessing.img_size == 224
    if name == "dinov2_vitg14":  # resize 256 bicubic, centre crop 224, ImageNet mean/std
        assert (backbone.preprocessing.resize_size, backbone.preprocessing.interpolation) == (256, "bicubic")
        assert backbone.preprocessing.mean == (0.485, 0.456, 0.406) and backbone.preprocessing.std == (
            0.229,
            0.224,
            0.225,
        )


def test_paper_config_lists_the_six_reference_models_and_splits():
    config = yaml.safe_load((REPO / "config" / "paper.yaml").read_text())
    assert set(config["models"]) == set(PAPER_EMBEDDINGS)
    assert config["datasets"]["species60"]["split_by"] == "group"
    assert config["datasets"]["species60"]["splits"] == ["Aves", "Mammalia"]


# ---------------------------------------------------------------- the split-balanced leaderboard


def test_leaderboard_split_balanced_score_is_the_mean_of_per_split_means():
    rows, v = [], {}
    rng = np.random.default_rng(3)
    for model in ("a", "b"):
        for split in ("Aves", "Mammalia"):
            for seed in (1, 2, 3):
                v[model, split, seed] = float(rng.uniform(0.3, 1.0))
                rows.append(
                    {
                        "model": model,
                        "reducer": "tsne",
                        "clusterer": "ward",
                        "sampling": "even",
                        "split": split,
                        "seed": seed,
                        "status": "ok",
                        "v_measure_retained": v[model, split, seed],
                    }
                )
    v["b", "Aves", 2] = float("nan")  # an undefined cell: left out of its split's mean
    rows[7]["v_measure_retained"] = float("nan")
    settings, models = leaderboard(pd.DataFrame(rows))
    for model in ("a", "b"):
        by_hand = np.mean([np.nanmean([v[model, s, seed] for seed in (1, 2, 3)]) for s in ("Aves", "Mammalia")])
        row = settings.set_index("model").loc[model]
        assert row["split_balanced_v_mean"] == pytest.approx(by_hand, abs=1e-12)
        assert row["v_measure_Aves_mean"] == pytest.approx(np.nanmean([v[model, "Aves", s] for s in (1, 2, 3)]))
    assert list(settings["rank"]) == [1, 2] and settings["split_balanced_v_mean"].is_monotonic_decreasing
    assert settings.set_index("model").loc["b", "n_seeds"] == 2  # seed 2 has no Aves score
    assert (
        models.set_index("model").loc["a", "mean_over_settings"]
        == settings.set_index("model").loc["a", "split_balanced_v_mean"]
    )


@pytest.mark.slow
def test_per_split_grid_end_to_end_on_a_nested_dataset(tmp_path, numba_cache):
    from conftest import job_counts, run_snakemake, tiny_config, write_config

    config = tiny_config(
        datasets={
            "nested": {
                "demo": {"n_species": 6, "per_species": 14, "seed": 5, "size": 64, "nested": True},
                "group_level": 0,
                "split_by": "group",
            }
        },
        reducers={"pca": {"method": "pca"}, "tsne": {"method": "tsne"}},
        clusterers={"ward": {"method": "ward"}, "gmm": {"method": "gmm"}},
        seeds=[1, 2],
        review={"gallery_top": 1},
    )
    config_path = write_config(tmp_path, config)
    counts = job_counts(run_snakemake(tmp_path, config_path, "-n").stdout)
    assert counts["sample"] == 2 * 2 and counts["reduce"] == 2 * 2 * 2 and counts["cluster"] == 2 * 2 * 2 * 2
    run_snakemake(tmp_path, config_path)
    results = tmp_path / "results" / "nested"
    metrics = pd.read_csv(results / "metrics.csv")
    assert set(metrics["split"]) == {"angular", "round"}
    assert set(metrics.groupby("split")["true_k"].unique().map(tuple)) == {(4,), (2,)}  # k = species in the split
    settings = pd.read_csv(results / "leaderboard.csv")
    for row in settings.itertuples():
        cells = metrics[(metrics["reducer"] == row.reducer) & (metrics["clusterer"] == row.clusterer)]
        by_hand = cells.groupby("split")["v_measure_retained"].mean().mean()
        assert row.split_balanced_v_mean == pytest.approx(by_hand, abs=1e-12)
    assert {"diff_to_best", "p_vs_best", "tied_with_best", "n_paired"} <= set(settings.columns)
    assert settings["tied_with_best"].all()  # 2 seeds: no difference can be significant (smallest p = 0.5)
    pairs = pd.read_csv(results / "pairwise.csv")
    assert len(pairs) == len(settings) * (len(settings) - 1) // 2 and (pairs["n_paired"] == 2).all()
    assert (results / "leaderboard_models.csv").is_file()


def test_uneven_reference_rule_and_n_classes():
    from zsc.data.sampling import draw_sample

    sizes = {"a": 8, "b": 30, "c": 200, "d": 55, "e": 21}
    manifest = pd.DataFrame(
        [{"image_id": f"{s}/{i}.jpg", "label": s, "group": ""} for s, n in sizes.items() for i in range(n)]
    )
    for seed in range(20):
        counts = draw_sample(manifest, {"kind": "uneven", "min_per_class": 2}, seed).attrs["counts"]
        for species, n in sizes.items():  # randint(min(20, available), available), inclusive
            assert min(20, n) <= counts[species] <= n, (species, counts[species])
    drawn = [draw_sample(manifest, {"kind": "all", "min_per_class": 2, "n_classes": 3}, seed) for seed in range(6)]
    assert all(sample["label"].nunique() == 3 for sample in drawn)
    assert len({tuple(sorted(sample["label"].unique())) for sample in drawn}) > 1  # drawn per seed
    with pytest.raises(ValueError, match="n_classes=9"):
        draw_sample(manifest, {"kind": "all", "min_per_class": 2, "n_classes": 9}, 0)
