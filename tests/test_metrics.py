"""Metrics against hand-computed cases, including the degenerate labelings."""

import math

import numpy as np
import pytest

from zsc.evaluation import metrics


def test_perfect_clustering_scores_one_with_permuted_ids():
    truth = ["a", "a", "b", "b", "c", "c"]
    result = metrics.external_metrics(truth, [2, 2, 0, 0, 1, 1])
    for name in ("v_measure", "homogeneity", "completeness", "ari", "ami", "nmi", "fowlkes_mallows", "accuracy"):
        assert result[f"{name}_retained"] == pytest.approx(1.0)
    assert result["clusters_found"] == 3 and result["true_k"] == 3 and result["noise_fraction"] == 0.0


def test_hand_computed_two_by_two():
    # truth a a b b, predicted 0 0 0 1.
    # H(C) = ln2; H(C|K) = 3/4 * H(2/3,1/3); H(K) = H(3/4,1/4); H(K|C) = 1/2 * H(1/2,1/2)
    truth, predicted = ["a", "a", "b", "b"], [0, 0, 0, 1]
    h = lambda *p: -sum(x * math.log(x) for x in p if x > 0)
    homogeneity = 1 - 0.75 * h(2 / 3, 1 / 3) / h(0.5, 0.5)
    completeness = 1 - 0.5 * h(0.5, 0.5) / h(0.75, 0.25)
    v = 2 * homogeneity * completeness / (homogeneity + completeness)
    result = metrics.external_metrics(truth, predicted)
    assert result["homogeneity_retained"] == pytest.approx(homogeneity)
    assert result["completeness_retained"] == pytest.approx(completeness)
    assert result["v_measure_retained"] == pytest.approx(v)
    # Hungarian: a->0 (2 right), b->1 (1 right) = 3/4
    assert result["accuracy_retained"] == pytest.approx(0.75)
    # Fowlkes-Mallows: TP pairs = 1 (a,a), pred pairs = 3, true pairs = 2 -> 1/sqrt(6)
    assert result["fowlkes_mallows_retained"] == pytest.approx(1 / math.sqrt(6))
    # ARI by hand: sum_comb(n_ij)=1, a=sum_comb(rows)=2, b=sum_comb(cols)=3, total pairs 6
    expected_index = 2 * 3 / 6
    ari = (1 - expected_index) / (0.5 * (2 + 3) - expected_index)
    assert result["ari_retained"] == pytest.approx(ari)


def test_noise_conventions_differ_as_defined():
    truth = ["a", "a", "a", "b", "b", "b"]
    predicted = [0, 0, -1, 1, 1, -1]
    result = metrics.external_metrics(truth, predicted)
    # retained: the 4 clustered points are perfect
    assert result["v_measure_retained"] == pytest.approx(1.0)
    assert result["noise_fraction"] == pytest.approx(2 / 6)
    # all: noise is one extra cluster {a, b}: homogeneity < 1, completeness < 1
    assert result["v_measure_all"] < 1.0
    from sklearn.metrics import v_measure_score

    assert result["v_measure_all"] == pytest.approx(v_measure_score(truth, [0, 0, 2, 1, 1, 2]))
    assert result["clusters_found"] == 2


def test_all_noise_is_nan_retained_and_defined_all():
    truth = ["a", "a", "b", "b"]
    result = metrics.external_metrics(truth, [-1, -1, -1, -1])
    assert math.isnan(result["v_measure_retained"]) and math.isnan(result["accuracy_retained"])
    assert result["noise_fraction"] == 1.0 and result["clusters_found"] == 0
    # one cluster holding everything: complete but not homogeneous -> V = 0 by definition
    assert result["completeness_all"] == pytest.approx(1.0)
    assert result["homogeneity_all"] == pytest.approx(0.0)
    assert result["v_measure_all"] == pytest.approx(0.0)
    assert result["accuracy_all"] == pytest.approx(0.5)


def test_single_cluster_is_defined():
    """One cluster has no retained score (V=0 / completeness=1 would mean nothing; the reference
    reports none); the noise-as-cluster convention still scores it."""
    result = metrics.external_metrics(["a", "a", "b", "b", "b"], [0, 0, 0, 0, 0])
    for name in ("homogeneity", "completeness", "v_measure", "accuracy", "ari"):
        assert math.isnan(result[f"{name}_retained"]), name
    assert result["score_note"] == "1 retained cluster(s): *_retained scores undefined"
    assert result["v_measure_all"] == pytest.approx(0.0) and result["completeness_all"] == pytest.approx(1.0)
    assert result["accuracy_all"] == pytest.approx(3 / 5)
    assert result["clusters_found"] == 1
    assert math.isnan(metrics.silhouette(np.zeros((5, 2)), np.zeros(5, int)))


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match="shape"):
        metrics.external_metrics(["a", "b"], [0])


def test_silhouette_separated_blobs_near_one_and_noise_ignored():
    points = np.array([[0, 0], [0, 0.1], [10, 10], [10, 10.1], [5, 5]])
    score = metrics.silhouette(points, np.array([0, 0, 1, 1, -1]))
    assert score > 0.95


def test_per_species_dominant_share_purity_and_merges():
    truth = ["a", "a", "a", "b", "b", "c", "c"]
    predicted = [0, 0, 1, 0, 0, 2, -1]
    table = metrics.per_species(truth, predicted).set_index("label")
    assert table.loc["a", "dominant_cluster"] == 0
    assert table.loc["a", "dominant_share"] == pytest.approx(2 / 3)
    assert table.loc["a", "dominant_purity"] == pytest.approx(2 / 4)
    assert table.loc["a", "merged_with"] == "b"
    assert table.loc["c", "noise_fraction"] == pytest.approx(0.5)
    assert table.loc["c", "dominant_purity"] == pytest.approx(1.0)


def test_macro_f1_hand_computed():
    # truth a a a b b; predicted 0 0 1 1 1 -> a<->0 (tp 2: F1 = 4/5), b<->1 (tp 2: F1 = 4/5)
    assert metrics.hungarian_macro_f1(np.array(list("aaabb")), np.array([0, 0, 1, 1, 1])) == pytest.approx(0.8)
    # a species with no cluster left to match scores 0: truth a b c, one cluster -> (2*1/(1+3)) / 3
    assert metrics.hungarian_macro_f1(np.array(list("abc")), np.array([0, 0, 0])) == pytest.approx(0.5 / 3)
    result = metrics.external_metrics(list("aaabb"), [0, 0, 1, 1, 1])
    assert result["macro_f1_retained"] == pytest.approx(0.8)


def test_dbcv_separated_blobs_high_and_undefined_for_one_cluster():
    rng = np.random.default_rng(0)
    points = np.concatenate([rng.normal(0, 0.3, (30, 2)), rng.normal(10, 0.3, (30, 2))])
    labels = np.repeat([0, 1], 30)
    assert metrics.dbcv(points, labels) > 0.5
    assert math.isnan(metrics.dbcv(points, np.zeros(60, int)))
    assert math.isnan(metrics.dbcv(points, np.full(60, -1)))


def test_review_effort_counts_moves_and_merges_on_a_hand_made_case():
    truth = ["owl"] * 5 + ["fox"] * 4 + ["elk"] * 3
    # cluster 0: 4 owls + 1 fox; cluster 1: 3 foxes; cluster 2: 2 elks; cluster 3: 1 owl (an owl split off);
    # one elk is noise
    predicted = [0, 0, 0, 0, 3, 0, 1, 1, 1, 2, 2, -1]
    effort = metrics.review_effort(truth, predicted)
    # moves: the fox in cluster 0 (1) + the noise elk (1) = 2; merges: clusters 0 and 3 are both owl = 1
    assert (effort["review_moves"], effort["review_merges"]) == (2, 1)
    assert effort["review_effort"] == pytest.approx(3 / 12)
    perfect = metrics.review_effort(truth, [0] * 5 + [1] * 4 + [2] * 3)
    assert perfect == {"review_effort": 0.0, "review_moves": 0, "review_merges": 0}
    assert metrics.external_metrics(truth, predicted)["review_effort"] == pytest.approx(3 / 12)
