"""The reference study's analyses: uneven samplings, over-clustering k, density presets,
group-balanced scores, label-free model selection and outlier review tables."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from zsc.data.sampling import draw_sample
from zsc.evaluation import metrics
from zsc.evaluation.aggregate import collect_outliers, label_free_selection, summarise
from zsc.methods.clusterers import resolve_k
from zsc.methods.density import DENSITY_PRESETS, PRESET_FOR_SAMPLING, with_density_preset


@pytest.fixture
def manifest():
    rows = [
        {"image_id": f"sp{s:02d}/{i}.jpg", "label": f"sp{s:02d}", "group": "Aves" if s < 6 else "Mammalia"}
        for s in range(12)
        for i in range(60)
    ]
    return pd.DataFrame(rows)


def test_longtail_counts_are_seeded_heavy_tailed_and_clipped(manifest):
    spec = {"kind": "longtail", "max_per_class": 50, "min_per_class": 3, "alpha": 1.0}
    first, again, other = (draw_sample(manifest, spec, seed) for seed in (4, 4, 5))
    assert first.attrs["counts"] == again.attrs["counts"]
    assert first.attrs["counts"] != other.attrs["counts"]  # which species is common depends on the seed
    counts = sorted(first.attrs["counts"].values(), reverse=True)
    # Zipf with alpha 1: 50/rank, floored, clipped to [3, 50]
    assert counts == [max(3, min(50, math.floor(50 / rank))) for rank in range(1, 13)]
    assert counts == sorted(first.groupby("label").size().tolist(), reverse=True)


def test_uneven_counts_are_uniform_within_bounds(manifest):
    drawn = draw_sample(manifest, {"kind": "uneven", "min_per_class": 5, "max_per_class": 40}, seed=1)
    counts = drawn.groupby("label").size()
    assert counts.between(5, 40).all() and counts.nunique() > 3
    assert drawn.attrs["counts"] == counts.to_dict()


def test_k_as_a_factor_of_true_k_for_over_clustering():
    assert resolve_k("2x", true_k=7, n_points=100) == 14
    assert resolve_k("1.5x", true_k=4, n_points=100) == 6


def test_density_presets_follow_the_sampling_and_are_overridable():
    assert PRESET_FOR_SAMPLING["longtail"] == "mixed"
    assert with_density_preset({"method": "hdbscan"}, "mixed") == {
        "method": "hdbscan",
        **DENSITY_PRESETS["mixed"],
        "density_rule": "preset 'mixed'",
    }
    assert with_density_preset({"method": "hdbscan", "min_cluster_size": 7}, "large")["min_cluster_size"] == 7
    assert with_density_preset({"method": "ward", "k": "true_k"}, "large") == {"method": "ward", "k": "true_k"}


def test_group_balanced_v_measure_averages_groups():
    truth = np.array(list("aabbccdd"))
    groups = np.array(["Aves"] * 4 + ["Mammalia"] * 4)
    predicted = np.array([0, 0, 1, 1, 2, 2, 2, 2])  # birds perfect, mammals merged
    mammals = metrics.skm.v_measure_score(list("ccdd"), [2, 2, 2, 2])
    assert metrics.group_balanced_v_measure(truth, predicted, groups) == pytest.approx((1.0 + mammals) / 2)


def test_nearest_cluster_of_noise_points():
    points = np.array([[0.0, 0], [0, 1], [10, 10], [10, 11], [9, 9], [1, 2]])
    predicted = np.array([0, 0, 1, 1, -1, -1])
    nearest, distance = metrics.nearest_clusters(points, predicted)
    assert nearest.tolist() == [0, 0, 1, 1, 1, 0]
    assert distance[4] == pytest.approx(math.hypot(1, 1)) and distance[5] == pytest.approx(math.hypot(1, 1))
    assert (distance[:4] == 0).all()


def _cells(proxy_sign: float) -> pd.DataFrame:
    rows = []
    for index, model in enumerate("abcde"):
        for seed in (1, 2):
            v = 0.5 + 0.1 * index
            rows.append(
                {
                    "model": model,
                    "reducer": "tsne",
                    "clusterer": "hdbscan",
                    "sampling": "even",
                    "split": "pooled",
                    "seed": seed,
                    "status": "ok",
                    "v_measure_retained": v,
                    "silhouette": proxy_sign * v,
                    "dbcv": np.nan,
                }
            )
    return pd.DataFrame(rows)


def test_label_free_selection_ranks_proxies_against_v_measure():
    table = label_free_selection(summarise(_cells(+1.0))).set_index("proxy")
    assert table.loc["silhouette", "spearman_rho"] == pytest.approx(1.0)
    assert table.loc["silhouette", "n_settings"] == 5
    assert math.isnan(table.loc["dbcv", "spearman_rho"])  # no DBCV values: undefined, not 0
    inverted = label_free_selection(summarise(_cells(-1.0))).set_index("proxy")
    assert inverted.loc["silhouette", "spearman_rho"] == pytest.approx(-1.0)


def test_summary_has_confidence_intervals_and_group_balanced_score():
    cells = _cells(1.0)
    cells.loc[cells["seed"] == 2, "v_measure_retained"] += 0.02
    cells["group_balanced_v_measure"] = cells["v_measure_retained"] - 0.1
    summary = summarise(cells)
    top = summary.iloc[0]
    assert top["model"] == "e" and top["rank"] == 1
    assert top["v_measure_retained_mean"] == pytest.approx(0.91)
    # t(0.975, 1) * std / sqrt(2) with std = 0.02 / sqrt(2)
    assert top["v_measure_retained_ci95"] == pytest.approx(12.7062047 * (0.02 / math.sqrt(2)) / math.sqrt(2), rel=1e-4)
    assert top["group_balanced_v_measure_mean"] == pytest.approx(0.81)


def test_outlier_table_lists_noise_of_density_cells(tmp_path):
    metrics_table = pd.DataFrame(
        [
            {
                "model": "m",
                "reducer": "r",
                "clusterer": "hdbscan",
                "sampling": "s",
                "split": "pooled",
                "seed": 1,
                "status": "ok",
                "density_method": True,
            },
            {
                "model": "m",
                "reducer": "r",
                "clusterer": "ward",
                "sampling": "s",
                "split": "pooled",
                "seed": 1,
                "status": "ok",
                "density_method": False,
            },
        ]
    )
    for clusterer, clusters in (("hdbscan", [0, -1]), ("ward", [0, 1])):
        folder = tmp_path / "m" / "r" / clusterer / "s" / "pooled"
        folder.mkdir(parents=True)
        pd.DataFrame(
            {
                "image_id": ["a.jpg", "b.jpg"],
                "label": ["x", "y"],
                "group": "",
                "cluster": clusters,
                "nearest_cluster": [0, 0],
                "nearest_distance": [0.0, 2.5],
            }
        ).to_parquet(folder / "1.parquet")
    labels_by_cell = {
        f"m/r/{c}/s/pooled/1": str(tmp_path / "m" / "r" / c / "s" / "pooled" / "1.parquet") for c in ("hdbscan", "ward")
    }
    outliers = collect_outliers(metrics_table, labels_by_cell)
    assert outliers[["clusterer", "image_id", "nearest_cluster", "nearest_distance"]].values.tolist() == [
        ["hdbscan", "b.jpg", 0, 2.5]
    ]


def _two_morph_species(seed=0):
    """Three species, each made of two well-separated morphs; the attribute 'morph' is the truth."""
    rng = np.random.default_rng(seed)
    rows, points = [], []
    for s, centre in enumerate([(0, 0), (50, 0), (0, 50)]):
        for morph, offset in (("dark", (-5, 0)), ("pale", (5, 0))):
            for i in range(15):
                rows.append(
                    {
                        "image_id": f"sp{s}/{morph}{i}.jpg",
                        "label": f"sp{s}",
                        "morph": morph,
                        "noise_attribute": rng.choice(["x", "y"]),
                    }
                )
                points.append(np.add(centre, offset) + rng.normal(0, 0.5, 2))
    return pd.DataFrame(rows), np.array(points)


def test_subclusters_recover_a_known_attribute_and_not_a_random_one(tmp_path):
    from zsc.evaluation.subclusters import read_attributes, score_attributes, subcluster_species

    frame, points = _two_morph_species()
    frame["subcluster"], used = subcluster_species(points, frame["label"], m=2, spec={"method": "ward"}, seed=0)
    assert frame.groupby("label")["subcluster"].nunique().eq(2).all()
    assert used == {"method": "ward", "k": 2, "connectivity": None, "n_neighbors": 10}  # recorded as a cell records it
    frame[["image_id", "morph", "noise_attribute"]].to_csv(tmp_path / "attributes.csv", index=False)
    scores = score_attributes(
        frame[["image_id", "label", "subcluster"]], read_attributes(tmp_path / "attributes.csv")
    ).set_index("attribute")
    assert scores.loc["morph", "v_measure"] == pytest.approx(1.0) and scores.loc["morph", "ari"] == pytest.approx(1.0)
    assert scores.loc["morph", "n_species"] == 3 and scores.loc["morph", "n_images"] == 90
    assert scores.loc["noise_attribute", "v_measure"] < 0.2


def test_attributes_csv_errors_are_specific(tmp_path):
    from zsc.evaluation.subclusters import read_attributes

    (tmp_path / "a.csv").write_text("image_id\nx.jpg\n")
    with pytest.raises(ValueError, match="at least one attribute column"):
        read_attributes(tmp_path / "a.csv")
    (tmp_path / "b.csv").write_text("image_id,sex\nx.jpg,f\nx.jpg,m\n")
    with pytest.raises(ValueError, match="image_id listed twice"):
        read_attributes(tmp_path / "b.csv")


def test_sort_sets_aside_noise_and_in_between_images():
    from zsc.sorting.assign import doubt

    points = np.array([[0, 0], [0, 1], [1, 0], [10, 10], [10, 11], [11, 10], [5.4, 5.4], [30, 30]], dtype=float)
    labels = np.array([0, 0, 0, 1, 1, 1, 0, -1])  # the point at (5.4, 5.4) was put in cluster 0 but is nearer 1
    doubtful, nearest, reasons = doubt(points, labels, min_silhouette=0.0)
    assert doubtful.tolist() == [False] * 6 + [True, True]
    assert reasons[6].startswith("between clusters") and nearest[6, 0] == 1
    assert reasons[7].startswith("noise") and nearest[7, 0] == 1


def test_density_preset_steps_down_or_scales_to_the_sample_and_says_why():
    from zsc.methods.density import choose_density_preset

    assert choose_density_preset("even", 200) == (
        {"min_cluster_size": 15, "min_samples": 5},
        "preset 'even'; median group size 200",
    )
    assert choose_density_preset("large", 1000)[0] == {"min_cluster_size": 150, "min_samples": 50}
    assert choose_density_preset("large", 250)[0] == {"min_cluster_size": 100, "min_samples": 30}
    values, rule = choose_density_preset("large", 59)  # the trap: ~59 photos per species, kind all
    assert values == {"min_cluster_size": 15, "min_samples": 5} and "preset 'large' needs groups of >= 300" in rule
    values, rule = choose_density_preset("even", 10)
    assert values == {"min_cluster_size": 5, "min_samples": 1} and rule.startswith("scaled")
    # a sampling that names its preset gets it as is; explicit clusterer values always win
    assert with_density_preset({"method": "hdbscan"}, "large")["min_cluster_size"] == 150
    assert with_density_preset({"method": "hdbscan", "min_cluster_size": 9, "min_samples": 2}, "large", 10) == {
        "method": "hdbscan",
        "min_cluster_size": 9,
        "min_samples": 2,
    }
    assert with_density_preset({"method": "dbscan"}, "even", 200) == {"method": "dbscan"}  # its own presets


def _blobs_points_file(path, n_species=10, per_species=60, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-50, 50, size=(n_species, 2))
    rows = []
    for s, centre in enumerate(centres):
        for i, (x0, x1) in enumerate(centre + rng.normal(0, 1.5, size=(per_species, 2))):
            rows.append({"image_id": f"sp{s}/{i}.jpg", "label": f"sp{s}", "group": "", "x0": x0, "x1": x1})
    pd.DataFrame(rows).to_parquet(path)


def test_bare_hdbscan_on_all_images_of_60_per_species_is_not_ruined_by_the_large_preset(tmp_path):
    """Issue trap: kind 'all' picked 150/50 for ~60 photos per species: every species became noise."""
    import json as _json

    from zsc.methods.density import sampling_density_preset
    from zsc.steps import cluster as steps_cluster

    _blobs_points_file(tmp_path / "points.parquet")
    (tmp_path / "info.json").write_text(_json.dumps({"status": "ok", "reduce_seconds": 0.0}))
    cell = {"model": "m", "reducer": "r", "clusterer": "hdbscan", "sampling": "all", "split": "pooled", "seed": "1"}

    def run(preset, name):
        steps_cluster.cluster(
            str(tmp_path / "points.parquet"),
            str(tmp_path / "info.json"),
            {"method": "hdbscan"},
            1,
            cell,
            str(tmp_path / f"{name}.parquet"),
            str(tmp_path / f"{name}.json"),
            density_preset=preset,
        )
        return _json.loads((tmp_path / f"{name}.json").read_text())

    before = run({"name": "large", "fixed": True}, "before")  # what the sampling kind alone chose
    after = run(sampling_density_preset({"kind": "all"}), "after")
    print(
        "150/50:",
        before["v_measure_all"],
        before["noise_fraction"],
        "chosen:",
        after["min_cluster_size"],
        after["min_samples"],
        after["v_measure_all"],
        after["noise_fraction"],
    )
    assert before["min_cluster_size"] == 150 and before["v_measure_all"] < 0.8
    assert (after["min_cluster_size"], after["min_samples"]) == (15, 5)
    assert "median group size 60" in after["density_rule"] and after["v_measure_all"] > 0.95
    assert json.loads(after["params"]) == {
        "method": "hdbscan",
        "min_cluster_size": 15,
        "min_samples": 5,
        "cluster_selection_method": "eom",
    }
