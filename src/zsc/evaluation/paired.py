"""Which leaderboard differences are real: every setting against the best on the same seeds.

The unit is a seed: a setting's score on a seed is its split-balanced V-measure on that seed (the
mean over splits), so two settings are compared on the seeds (and splits) they share. The test is
the exact paired sign-flip permutation test of the mean difference (two-sided): under "no
difference" each seed's difference is as likely positive as negative, so all 2^n sign patterns
are equally likely. It uses the differences' sizes (unlike a sign test), assumes no normality
(unlike a paired t-test, fragile at 2-10 seeds), and is exact at the seed counts benchmarks use
(Monte Carlo with a fixed seed above ``EXACT_UP_TO``); Wilcoxon's signed-rank test would discard
the sizes in favour of ranks for no gain here. The comparisons with the best are corrected for
their number by Holm's step-down method (controls the family-wise error, never weaker than
Bonferroni). A setting is *tied with the best* when its corrected p is at least ``ALPHA``: with
n seeds the smallest possible p is 2 / 2^n (0.5 with 2 seeds), so with few seeds every setting is
tied: the test says the seeds cannot tell them apart, not that they are equal.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

ALPHA = 0.05
EXACT_UP_TO = 16  # seeds; 2^16 sign patterns
MONTE_CARLO = 20_000
PAIRWISE_TOP = 10  # settings in pairwise.csv


def sign_flip_p(differences) -> float:
    """Two-sided p of the paired sign-flip test that the mean difference is 0 (NaN below 1 pair)."""
    differences = np.asarray(differences, dtype=float)
    differences = differences[~np.isnan(differences)]
    n = len(differences)
    if n == 0:
        return float("nan")
    observed = abs(differences.mean())
    if n <= EXACT_UP_TO:
        signs = np.array(list(itertools.product((1.0, -1.0), repeat=n)))
    else:
        signs = np.random.default_rng(0).choice((1.0, -1.0), size=(MONTE_CARLO, n))
    means = np.abs(signs @ differences) / n
    return float(np.mean(means >= observed - 1e-12))


def holm(pvalues) -> np.ndarray:
    """Holm-adjusted p-values (same order; NaN stays NaN and does not count as a comparison)."""
    pvalues = np.asarray(pvalues, dtype=float)
    adjusted = np.full(len(pvalues), np.nan)
    present = np.flatnonzero(~np.isnan(pvalues))
    order = present[np.argsort(pvalues[present], kind="stable")]
    m = len(order)
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvalues[index]))
        adjusted[index] = running
    return adjusted


def compare_with_best(per_seed: pd.Series, settings: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Per row of ``settings`` (ranked, best first; ``keys`` name a setting): ``diff_to_best`` (its mean
    minus the best's, over the seeds they share), ``n_paired``, ``p_vs_best_raw``, ``p_vs_best``
    (Holm-corrected over the comparisons) and ``tied_with_best``. ``per_seed``: score by setting + seed."""
    scores = per_seed.unstack("seed")
    out = pd.DataFrame(index=settings.index, columns=["diff_to_best", "n_paired", "p_vs_best_raw"], dtype=float)
    if settings.empty:
        return out.assign(p_vs_best=np.nan, tied_with_best=False)
    best = tuple(settings.iloc[0][keys])
    best_scores = scores.loc[best] if best in scores.index else None
    for row, setting in settings[keys].iterrows():
        setting = tuple(setting)
        if best_scores is None or setting not in scores.index:
            continue
        pairs = pd.concat([scores.loc[setting], best_scores], axis=1).dropna()
        differences = (pairs.iloc[:, 0] - pairs.iloc[:, 1]).to_numpy()
        out.loc[row, "n_paired"] = len(differences)
        out.loc[row, "diff_to_best"] = differences.mean() if len(differences) else np.nan
        if setting != best:
            out.loc[row, "p_vs_best_raw"] = sign_flip_p(differences)
    out["p_vs_best"] = holm(out["p_vs_best_raw"].to_numpy())
    out["tied_with_best"] = (out["p_vs_best"] >= ALPHA) | (out.index == settings.index[0])
    out.loc[out["diff_to_best"].isna() & (out.index != settings.index[0]), "tied_with_best"] = False
    return out


def pairwise(per_seed: pd.Series, settings: pd.DataFrame, keys: list[str], top: int = PAIRWISE_TOP) -> pd.DataFrame:
    """Every pair of the ``top`` best settings: mean difference (a - b) over shared seeds, its p, and
    the Holm-corrected p over all these pairs (``significant`` at ``ALPHA``)."""
    scores = per_seed.unstack("seed")
    names = [tuple(row) for row in settings[keys].head(top).itertuples(index=False)]
    rows = []
    for a, b in itertools.combinations(names, 2):
        if a not in scores.index or b not in scores.index:
            continue
        pairs = pd.concat([scores.loc[a], scores.loc[b]], axis=1).dropna()
        differences = (pairs.iloc[:, 0] - pairs.iloc[:, 1]).to_numpy()
        rows.append(
            {
                "setting_a": "/".join(map(str, a)),
                "setting_b": "/".join(map(str, b)),
                "n_paired": len(differences),
                "mean_diff": differences.mean() if len(differences) else np.nan,
                "p": sign_flip_p(differences),
            }
        )
    table = pd.DataFrame(rows, columns=["setting_a", "setting_b", "n_paired", "mean_diff", "p"])
    table["p_holm"] = holm(table["p"].to_numpy()) if len(table) else []
    table["significant"] = table["p_holm"] < ALPHA
    return table


# Nemenyi's critical values q(0.05) for k settings (Demsar 2006, table 5a: studentized range / sqrt 2)
NEMENYI_Q05 = {2: 1.960, 3: 2.343, 4: 2.569, 5: 2.728, 6: 2.850, 7: 2.949, 8: 3.031, 9: 3.102, 10: 3.164}
CD_TOP = 10  # settings on the critical-difference figure


def mean_ranks(blocks: pd.DataFrame) -> tuple[pd.Series, int, float]:
    """(each setting's mean rank over the blocks, rank 1 = best; the number of blocks; Nemenyi's
    critical difference at 0.05). ``blocks``: one row per block (a seed x split), one column per
    setting; only blocks where every setting has a score count."""
    complete = blocks.dropna()
    k, n = complete.shape[1], len(complete)
    if k < 2 or n == 0:
        return pd.Series(dtype=float), n, float("nan")
    ranks = complete.rank(axis=1, ascending=False).mean()
    return ranks.sort_values(), n, NEMENYI_Q05[min(k, max(NEMENYI_Q05))] * np.sqrt(k * (k + 1) / (6 * n))


def cliques(ranks: pd.Series, cd: float) -> list[tuple[int, int]]:
    """Maximal runs (first, last position in rank order) of settings whose mean ranks differ by less
    than ``cd``: the groups a critical-difference figure joins with a bar."""
    values = ranks.to_numpy()
    runs = []
    for start in range(len(values)):
        end = start
        while end + 1 < len(values) and values[end + 1] - values[start] < cd:
            end += 1
        if end > start and not any(a <= start and end <= b for a, b in runs):
            runs.append((start, end))
    return runs
