"""Which setting a sort run uses: its explicit one, or the best of a finished benchmark's summary.csv."""

from __future__ import annotations

import pandas as pd

from zsc.evaluation.aggregate import first_ok_cell, usable_settings
from zsc.methods.density import DENSITY_KEYS, DENSITY_KEYS_OF, with_density_preset


def top_setting(summary: pd.DataFrame, path) -> pd.Series:
    """The best summary row with at least one seed that did not fail."""
    usable = usable_settings(summary)
    if usable.empty:
        raise ValueError(f"{path}: every setting failed; no best setting to sort with")
    return usable.iloc[0]


def choose_setting(run: dict, choices: dict, summary_path: str | None, metrics_path: str | None) -> dict:
    """The sort run's model / reducer / clusterer with their full config entries.

    A density clusterer without min_cluster_size/min_samples gets them from the run's
    ``expected_group_size``, or else from the values the benchmark's cell actually used.
    """
    recorded = {}
    if "setting" in run:
        names, source = dict(run["setting"]), "sort.<run>.setting"
    else:
        top = top_setting(pd.read_csv(summary_path), summary_path)
        names = {key: top[key] for key in ("model", "reducer", "clusterer")}
        source = f"best setting of {summary_path}"
        cell = first_ok_cell(pd.read_csv(metrics_path), top)
        recorded = {key: int(cell[key]) for key in DENSITY_KEYS if key in cell and pd.notna(cell[key])}
    clusterer_spec = dict(choices["clusterers"][names["clusterer"]])
    if not all(key in clusterer_spec for key in DENSITY_KEYS_OF.get(clusterer_spec["method"], ())):
        if run.get("expected_group_size"):
            clusterer_spec = with_density_preset(clusterer_spec, "large", float(run["expected_group_size"]))
        elif recorded:
            clusterer_spec = {**recorded, **clusterer_spec, "density_rule": f"as used by the benchmark ({source})"}
        else:
            raise ValueError(
                "a density clusterer without min_cluster_size/min_samples needs sort.<run>.expected_group_size"
            )
    return {
        **names,
        "source": source,
        "model_spec": choices["models"][names["model"]],
        "reducer_spec": choices["reducers"][names["reducer"]],
        "clusterer_spec": clusterer_spec,
    }
