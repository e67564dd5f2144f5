"""Which leaderboard differences are real: the paired sign-flip test, Holm's correction, and the
leaderboard's verdicts on constructed cases (two settings equal up to noise; two clearly apart)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from zsc.evaluation.aggregate import leaderboard, pairwise_table
from zsc.evaluation.paired import holm, sign_flip_p


def test_the_sign_flip_p_is_exact_on_small_cases():
    # 3 positive differences: of the 8 sign patterns, only all-plus and all-minus are as extreme
    assert sign_flip_p([0.1, 0.1, 0.1]) == pytest.approx(2 / 8)
    assert sign_flip_p([0.0, 0.0]) == 1.0
    assert sign_flip_p([0.2, -0.2]) == 1.0
    # by brute force on a random case
    d = np.array([0.03, -0.01, 0.02, 0.05, 0.01])
    flips = np.array(list(itertools.product((1, -1), repeat=5)))
    assert sign_flip_p(d) == pytest.approx(np.mean(np.abs(flips @ d) >= abs(d.sum()) - 1e-12))
    assert np.isnan(sign_flip_p([]))


def test_holm_multiplies_the_smallest_by_m_and_keeps_the_order():
    adjusted = holm([0.01, 0.04, 0.03, np.nan])
    assert adjusted[0] == pytest.approx(0.03)  # 3 comparisons (NaN is none): 0.01 x 3
    assert adjusted[2] == pytest.approx(0.06)  # 0.03 x 2
    assert adjusted[1] == pytest.approx(0.06)  # max(0.04 x 1, the previous step)
    assert np.isnan(adjusted[3])
    assert holm([0.5, 0.9]).tolist() == [1.0, 1.0]


def rows_for(scores: dict[str, list[float]]) -> pd.DataFrame:
    rows = []
    for model, values in scores.items():
        for seed, value in enumerate(values):
            rows.append(
                {
                    "model": model,
                    "reducer": "tsne",
                    "clusterer": "ward",
                    "sampling": "even",
                    "split": "pooled",
                    "seed": seed,
                    "status": "ok",
                    "v_measure_retained": value,
                }
            )
    return pd.DataFrame(rows)


def test_settings_equal_up_to_noise_are_tied_and_one_clearly_below_is_not():
    rng = np.random.default_rng(0)
    base = rng.uniform(0.80, 0.90, size=10)  # seed effects shared by every setting (the same samples)
    noise = np.array([0.002, -0.001, 0.0015, -0.002, 0.001, -0.0015, 0.0005, -0.001, 0.002, -0.0014])
    scores = {
        "best": list(base + 0.0002),
        "twin": list(base + noise),  # the same up to noise: differences of both signs, mean about 0
        "worse": list(base - 0.05 + rng.normal(0, 0.002, size=10)),  # clearly apart on every seed
    }
    settings, _ = leaderboard(rows_for(scores))
    by_model = settings.set_index("model")
    assert by_model.loc["best", "rank"] == 1 and by_model.loc["best", "tied_with_best"]
    assert by_model.loc["twin", "tied_with_best"] and by_model.loc["twin", "p_vs_best"] >= 0.05
    assert not by_model.loc["worse", "tied_with_best"] and by_model.loc["worse", "p_vs_best"] < 0.01
    assert by_model.loc["worse", "diff_to_best"] == pytest.approx(-0.051, abs=0.003)
    assert (by_model["n_paired"] == 10).all()
    pairs = pairwise_table(rows_for(scores), settings)
    assert len(pairs) == 3 and pairs.set_index(["setting_a", "setting_b"])["significant"].sum() == 2


def test_the_correction_for_many_comparisons_keeps_a_borderline_setting_tied():
    # 6 seeds: the smallest exact p is 2/64 = 0.031; alone it is significant, among 5 comparisons not
    base = np.linspace(0.80, 0.85, 6)
    scores = {"best": list(base + 0.02), "lower": list(base)}
    alone, _ = leaderboard(rows_for(scores))
    assert alone.set_index("model").loc["lower", "p_vs_best"] == pytest.approx(2 / 64)
    assert not alone.set_index("model").loc["lower", "tied_with_best"]
    scores.update({f"other{i}": list(base + 0.015 - 0.001 * i) for i in range(4)})
    many, _ = leaderboard(rows_for(scores))
    lower = many.set_index("model").loc["lower"]
    assert lower["p_vs_best_raw"] == pytest.approx(2 / 64) and lower["p_vs_best"] == pytest.approx(5 * 2 / 64)
    assert lower["tied_with_best"]


def test_with_two_seeds_nothing_can_be_told_apart():
    settings, _ = leaderboard(rows_for({"a": [0.9, 0.91], "b": [0.5, 0.52]}))
    assert settings["tied_with_best"].all()  # the smallest possible p is 0.5
    assert settings.set_index("model").loc["b", "p_vs_best_raw"] == pytest.approx(0.5)


def test_mean_ranks_and_the_critical_difference_follow_demsar():
    from zsc.evaluation.paired import cliques, mean_ranks

    blocks = pd.DataFrame({"a": [0.9] * 10, "b": [0.8] * 10, "c": [0.79] * 5 + [0.81] * 5, "d": [0.1] * 10})
    ranks, n, cd = mean_ranks(blocks)
    assert n == 10 and list(ranks.index) == ["a", "b", "c", "d"]
    assert ranks["a"] == 1.0 and ranks["b"] == pytest.approx(2.5) and ranks["c"] == pytest.approx(2.5)
    assert cd == pytest.approx(2.569 * np.sqrt(4 * 5 / 60))  # q(0.05, k=4) * sqrt(k(k+1) / 6N)
    runs = cliques(ranks, cd)
    assert runs == [(1, 2)]  # b and c tie (0 apart); a and d are 1.5 from them, beyond the CD of 1.48
    with_gap, _, _ = mean_ranks(blocks.assign(e=np.nan))  # a setting with no complete block: none counts
    assert with_gap.empty


def test_the_critical_difference_figure_names_every_setting_and_draws_its_bars():
    from zsc.evaluation.paired import cliques, mean_ranks
    from zsc.report import plots

    blocks = pd.DataFrame({f"model{i}/tsne/ward/even": np.linspace(0.9, 0.8, 6) - 0.02 * i for i in range(5)})
    ranks, n, cd = mean_ranks(blocks)
    runs = cliques(ranks, cd)
    fig = plots.draw_critical_difference(ranks, cd, n, runs)
    texts = [t.get_text() for t in fig.axes[0].texts]
    for name in ranks.index:
        assert any(t.startswith(name) for t in texts)
    red = [line for line in fig.axes[0].lines if line.get_color() == "#d33"]
    assert len(red) == len(runs) >= 1
    assert "critical difference" in fig.axes[0].get_title()
