"""How far can suggestions go on a sort? The ceiling of issue 34's "suggestions do the sorting".

`python bench/suggestion_ceiling.py <review bench project> <truth json>` (after `bench.py --only review`,
e.g. `bench/out/review/review-lookalike1200-ward bench/out/review/lookalike-1200-truth.json`): on that
run's sort, each cluster named after its majority (what a reviewer does first), it prints
- the misfiled photos and how they fall in (cluster, true species) pairs: a reviewer who must point at
  each pair at least once needs that many actions beyond naming, whatever the page offers;
- classifiers fitted on the named photos, each photo scored with itself left out (the page's: centres
  in 32 int8 principal components; centres in the whole embedding; 10 nearest photos; a logistic
  regression, 10-fold): how many named photos each contradicts, how often it is right there, how many
  misfiled photos it would set right and correct ones it would break, and what fixing by groups
  "N in A -> B" would cost (a group is used where unticking its wrong photos plus one move costs less
  than one action per right photo; the rest one action per photo);
- the same classifiers fitted on the true labels (5-fold): how well they could do with clean labels;
- a review cluster by cluster, each fixed cluster's photos added to a classifier's clean training set,
  the next cluster's misfiled photos fixed by its groups where that pays: actions for the misfiled
  photos against one per photo.
"""

from __future__ import annotations

import json
import sys
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from zsc.io import read_embeddings
from zsc.sorting.similarity import classifier_features, unit_rows


def load(project: Path, truth_path: Path):
    run_dir = next((project / "results/sort").iterdir())
    frame, matrix = read_embeddings(next((run_dir / "embeddings").glob("*.parquet")))
    clusters = pd.read_csv(run_dir / "assignments.csv").set_index("image_id").loc[frame["image_id"], "cluster"]
    truth = json.loads(truth_path.read_text())
    species = np.array([truth[i] for i in frame["image_id"]])
    cluster = clusters.to_numpy()
    majority = {c: Counter(species[cluster == c]).most_common(1)[0][0] for c in set(cluster)}
    return matrix, species, cluster, np.array([majority[c] for c in cluster])


def centre_predictions(features: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Each row's nearest label centre (cosine), its own row left out of its label's centre."""
    rows = unit_rows(features.astype(np.float64))
    names = np.unique(labels)
    sums = np.stack([rows[labels == name].sum(axis=0) for name in names])
    scores = np.empty((len(rows), len(names)))
    for j, name in enumerate(names):
        own = labels == name
        centre = sums[j] - own[:, None] * rows  # per row: its label's sum without itself
        norms = np.linalg.norm(centre, axis=1)
        scores[:, j] = np.where(norms > 1e-9, np.sum(centre * rows, axis=1) / np.maximum(norms, 1e-9), -np.inf)
    return names[scores.argmax(axis=1)]


def knn_predictions(features: np.ndarray, labels: np.ndarray, k: int = 10) -> np.ndarray:
    rows = unit_rows(features)
    similarity = rows @ rows.T
    np.fill_diagonal(similarity, -np.inf)
    nearest = np.argsort(-similarity, axis=1)[:, :k]
    return np.array([Counter(labels[row]).most_common(1)[0][0] for row in nearest])


def logistic_predictions(features: np.ndarray, labels: np.ndarray, folds: int = 10) -> np.ndarray:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict

    folds = max(2, min(folds, Counter(labels).most_common()[-1][1]))
    return cross_val_predict(LogisticRegression(C=10, max_iter=3000), unit_rows(features), labels, cv=folds)


def group_cost(predicted, species, cluster, named) -> tuple[int, int]:
    """(actions of the worthwhile "N in A -> B" group moves, misfiled photos they set right)."""
    contradicted = predicted != named
    actions = fixed = 0
    for (c, to), _ in Counter(zip(cluster[contradicted], predicted[contradicted])).items():
        members = contradicted & (cluster == c) & (predicted == to)
        right = int((species[members] == to).sum())
        wrong = int(members.sum()) - right
        if right and wrong + 1 < right:
            actions += wrong + 1
            fixed += right
    return actions, fixed


def review_by_cluster(features, species, cluster, named, classify) -> int:
    """Actions for the misfiled photos when clusters are fixed one at a time (largest first), each later
    cluster's misfiled photos by the groups of a classifier fitted on the clusters fixed before."""
    order = sorted(set(cluster), key=lambda c: -(cluster == c).sum())
    clean = np.zeros(len(species), bool)
    actions = 0
    for c in order:
        members = np.flatnonzero(cluster == c)
        misfiled = int((species[members] != named[members]).sum())
        if clean.sum() >= 20 and len(set(species[clean])) > 1:
            predicted = classify(features[clean], species[clean], features[members])
            group_actions, fixed = group_cost(predicted, species[members], cluster[members], named[members])
            actions += group_actions + misfiled - fixed
        else:
            actions += misfiled
        clean[members] = True
    return actions


def fitted_centres(train, labels, rows):
    names = np.unique(labels)
    centres = unit_rows(np.stack([unit_rows(train)[labels == name].mean(axis=0) for name in names]))
    return names[(unit_rows(rows) @ centres.T).argmax(axis=1)]


def fitted_logistic(train, labels, rows):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=100, max_iter=3000).fit(unit_rows(train), labels).predict(unit_rows(rows))


def main(project: Path, truth_path: Path) -> None:
    warnings.filterwarnings("ignore")
    matrix, species, cluster, named = load(project, truth_path)
    misfiled = species != named
    pairs = Counter(zip(cluster[misfiled], species[misfiled]))
    sizes = Counter(min(n, 5) for n in pairs.values())
    print(
        f"{len(species)} photos, {len(set(cluster))} clusters named after their majority: {misfiled.sum()} misfiled in "
        f"{len(pairs)} (cluster, species) pairs (pairs of 1/2/3/4/5+ photos: "
        f"{'/'.join(str(sizes[n]) for n in range(1, 6))})"
    )
    embedding = unit_rows(matrix)
    page_features = classifier_features(matrix).astype(np.float64)
    classifiers = {
        "page: centres in 32 int8 PCs": lambda labels: centre_predictions(page_features, labels),
        "centres in the embedding": lambda labels: centre_predictions(embedding, labels),
        "10 nearest photos": lambda labels: knn_predictions(embedding, labels),
        "logistic regression": lambda labels: logistic_predictions(embedding, labels),
    }
    print("fitted on the cluster names (itself left out):")
    for name, classify in classifiers.items():
        predicted = classify(named)
        contradicted = predicted != named
        actions, fixed = group_cost(predicted, species, cluster, named)
        print(
            f"  {name}: contradicts {contradicted.sum()}, right for {np.mean(predicted[contradicted] == species[contradicted]):.0%}"
            f" of them; sets {np.sum(contradicted & misfiled & (predicted == species))} misfiled right, breaks "
            f"{np.sum(contradicted & ~misfiled)} correct; groups: {actions} actions set {fixed} right, "
            f"{misfiled.sum() - fixed} left to one action each ({actions + misfiled.sum() - fixed} against {misfiled.sum()})"
        )
    print("fitted on the true labels, right on the misfiled photos:")
    for name, predicted in (
        ("centres (itself left out)", centre_predictions(embedding, species)),
        ("logistic regression (5-fold)", logistic_predictions(embedding, species, 5)),
    ):
        print(
            f"  {name}: {np.mean(predicted[misfiled] == species[misfiled]):.0%} (all photos {np.mean(predicted == species):.0%})"
        )
    print("clusters fixed one by one, each later one's groups from a classifier on the photos fixed before:")
    for name, classify in (("centres", fitted_centres), ("logistic regression", fitted_logistic)):
        for label, features in (("32 PCs", page_features), ("embedding", embedding)):
            actions = review_by_cluster(features, species, cluster, named, classify)
            print(f"  {name} in the {label}: {actions} actions for {misfiled.sum()} misfiled photos")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
