"""Which measure separates a photo of an unseen species from a new photo of a reviewed one?

`python bench/novelty_features.py <season project folder>` (a weekly bench's `weekly-<name>/season`,
after its run): on the run's reviewed photos (``reviews/season.csv``), each photo assigned as in
``zsc.sorting.known`` twice, itself left out (known) and its species left out (unseen); for each
measure, the share of known photos recalled right when at most 30 % of the unseen ones are absorbed
(and at most 10 % of known ones wrong). Measures: distance to the voted centre over its threshold,
distance to the nearest reviewed photo, margin between the two nearest centres, voters' agreement,
and a logistic combination of the four (fitted and scored on the same photos: an upper bound).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from zsc.io import read_embeddings
from zsc.sorting.known import VOTERS, _vote, build_index, unit


def measures(vectors: np.ndarray, codes: np.ndarray, thresholds: np.ndarray, role: str) -> np.ndarray:
    """Per reviewed photo, as a known (itself left out) or unseen (its species left out) photo: the
    distance ratio, minus the agreement, minus the centre margin, the nearest photo's distance (lower:
    more like a reviewed species)."""
    n_species = codes.max() + 1
    sums = np.zeros((n_species, vectors.shape[1]))
    np.add.at(sums, codes, vectors)
    centres = unit(sums)
    similarity = vectors @ vectors.T
    np.fill_diagonal(similarity, -np.inf)
    own_centre = unit(sums[codes] - vectors)
    to_centres = vectors @ centres.T
    if role == "unseen":
        similarity[codes[:, None] == codes[None, :]] = -np.inf
        to_centres[np.arange(len(codes)), codes] = -np.inf
    else:
        to_centres[np.arange(len(codes)), codes] = np.sum(vectors * own_centre, axis=1)
    vote, support = _vote(similarity, codes, n_species, VOTERS)
    centre = np.where(((vote == codes) & (role == "known"))[:, None], own_centre, centres[vote])
    ratio = (1 - np.sum(vectors * centre, axis=1)) / thresholds[vote]
    top = -np.sort(-to_centres, axis=1)[:, :2]
    return np.c_[ratio, -support, -(top[:, 0] - top[:, 1]), 1 - similarity.max(axis=1)], vote


def best_recall(known: np.ndarray, unseen: np.ndarray, right: np.ndarray, absorbed: float = 0.3) -> float:
    best = 0.0
    for cut in np.quantile(np.r_[known, unseen], np.linspace(0, 1, 401)):
        assigned = known <= cut
        if np.mean(unseen <= cut) <= absorbed and np.mean(assigned & ~right) <= 0.10:
            best = max(best, float(np.mean(assigned & right)))
    return best


def main(project: Path) -> None:
    from sklearn.linear_model import LogisticRegression

    run_dir = next((project / "results/sort").iterdir())
    reviewed = pd.read_csv(project / "reviews/season.csv")
    frame, matrix = read_embeddings(next((run_dir / "embeddings").glob("*.parquet")))
    row_of = {image_id: row for row, image_id in enumerate(frame["image_id"])}
    vectors = unit(matrix[[row_of[i] for i in reviewed["image_id"]]]).astype(np.float64)
    index = build_index("features", vectors, reviewed["label"].to_numpy())
    codes = np.unique(reviewed["label"].to_numpy(), return_inverse=True)[1]
    known, vote = measures(vectors, codes, index.thresholds, "known")
    unseen, _ = measures(vectors, codes, index.thresholds, "unseen")
    right = vote == codes
    names = ["distance ratio", "voters' agreement", "centre margin", "nearest photo's distance"]
    print(f"{len(codes)} reviewed photos of {codes.max() + 1} species; known recalled at <= 30 % unseen absorbed:")
    for column, name in enumerate(names):
        print(f"  {name}: {best_recall(known[:, column], unseen[:, column], right):.3f}")
    model = LogisticRegression(max_iter=1000).fit(
        np.r_[known, unseen], np.r_[np.ones(len(known)), np.zeros(len(unseen))]
    )
    combined = best_recall(-model.decision_function(known), -model.decision_function(unseen), right)
    print(f"  logistic combination of the four (in-sample): {combined:.3f}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
