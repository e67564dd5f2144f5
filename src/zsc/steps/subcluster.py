"""Steps of workflow/rules/subcluster.smk: sub-clusters within species and their summary."""

from __future__ import annotations

import pandas as pd

from zsc.io import write_table
from zsc.methods.reducers import reduced_coordinates


def subcluster(
    points_path: str,
    info_path: str,
    spec: dict,
    attributes_path: str | None,
    seed: int,
    labels_path: str,
    scores_path: str,
) -> None:
    """Split each species of one reduction into m sub-clusters; score them against the attributes, if any."""
    from zsc.evaluation.subclusters import SCORE_COLUMNS, read_attributes, score_attributes, subcluster_species

    points_frame = pd.read_parquet(points_path)
    coordinates = reduced_coordinates(points_frame)
    labels = points_frame[["image_id", "label", "group"]].copy()
    labels["subcluster"], used = subcluster_species(
        coordinates, labels["label"], spec["m"], {"method": spec["method"]}, seed
    )
    write_table(labels, labels_path, metadata={"params": used, "seed": seed})
    scores = (
        score_attributes(labels, read_attributes(attributes_path))
        if attributes_path
        else pd.DataFrame(columns=SCORE_COLUMNS)
    )
    write_table(scores, scores_path)


def summary(score_paths: list[str], keys: list[str], output_path: str) -> None:
    """One table: which attributes the sub-clusters recover, per reduction, best first.

    ``keys``: each score file's reduction key (model/reducer/sampling/split/seed), in the same order."""
    from zsc.grid import REDUCTION_KEYS

    frames = []
    for path, key in zip(score_paths, keys):
        reduction = dict(zip(REDUCTION_KEYS, key.split("/")))
        frames.append(pd.read_csv(path).assign(**{**reduction, "seed": int(reduction["seed"])}))
    columns = [
        "model",
        "reducer",
        "sampling",
        "split",
        "seed",
        "attribute",
        "n_species",
        "n_images",
        "v_measure",
        "ari",
    ]
    table = pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)
    write_table(
        table.sort_values(
            ["v_measure", "model", "reducer", "seed"],
            ascending=[False, True, True, True],
            na_position="last",
            ignore_index=True,
        ),
        output_path,
    )
