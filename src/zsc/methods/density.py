"""The density policy, in one place: which min_cluster_size / min_samples an HDBSCAN entry that sets
none gets, for a benchmark cell (from its sampling, checked against the sample) or a sort run
(from its expected group size). DBSCAN has its own presets (``preset`` in zsc.methods.clusterers)."""

from __future__ import annotations

import numpy as np

# The reference toolkit's HDBSCAN settings per kind of sample (min_cluster_size, min_samples),
# smallest first; a clusterer entry's own values override them.
DENSITY_PRESETS = {
    "even": {"min_cluster_size": 15, "min_samples": 5},
    "mixed": {"min_cluster_size": 100, "min_samples": 30},
    "large": {"min_cluster_size": 150, "min_samples": 50},
}
PRESET_FOR_SAMPLING = {"even": "even", "longtail": "mixed", "uneven": "mixed", "all": "large"}
DENSITY_KEYS = ("min_cluster_size", "min_samples")
DENSITY_KEYS_OF = {"hdbscan": DENSITY_KEYS}  # methods whose sizes follow the sample (DBSCAN has its own presets)


def choose_density_preset(preferred: str, typical_group_size: float) -> tuple[dict, str]:
    """(min_cluster_size/min_samples, how they were chosen) for groups of about ``typical_group_size`` images.

    A density cluster must be able to hold one species: a preset whose min_cluster_size is more
    than half the typical (median) species count calls whole species noise or merges them (10
    species x 60 points: V 0.63 with 150/50, 0.97 with 15/5; tests/test_analyses.py). So the
    sampling's preset is kept when it fits, else the largest smaller preset that fits, else values
    scaled to the groups.
    """
    names = list(DENSITY_PRESETS)
    half = typical_group_size / 2
    for name in reversed(names[: names.index(preferred) + 1]):
        if DENSITY_PRESETS[name]["min_cluster_size"] <= half:
            reason = f"preset '{name}'" + (
                ""
                if name == preferred
                else f" (preset '{preferred}' needs groups of >= {2 * DENSITY_PRESETS[preferred]['min_cluster_size']})"
            )
            return dict(DENSITY_PRESETS[name]), f"{reason}; median group size {typical_group_size:g}"
    size = max(2, int(half))
    return (
        {"min_cluster_size": size, "min_samples": max(1, size // 3)},
        f"scaled to median group size {typical_group_size:g} (smaller than every preset)",
    )


def with_density_preset(spec: dict, preset: str | None, typical_group_size: float | None = None) -> dict:
    """Fill min_cluster_size / min_samples of a density clusterer that does not set them.

    With ``typical_group_size`` (the sample's median images per species) the preset is checked
    against it (:func:`choose_density_preset`); the choice is recorded under ``density_rule``.
    """
    keys = DENSITY_KEYS_OF.get(spec["method"], ())
    if preset is None or all(key in spec for key in keys):
        return spec
    if typical_group_size is None:
        values, rule = dict(DENSITY_PRESETS[preset]), f"preset '{preset}'"
    else:
        values, rule = choose_density_preset(preset, typical_group_size)
    return {**{key: values[key] for key in keys}, **spec, "density_rule": rule}


def sampling_density_preset(sampling: dict) -> dict:
    """The sampling's preset: named by ``density_preset`` (used as is) or following its kind (checked against the sample)."""
    if sampling.get("density_preset"):
        return {"name": sampling["density_preset"], "fixed": True}
    return {"name": PRESET_FOR_SAMPLING[sampling["kind"]], "fixed": False}


def cell_spec(spec: dict, preset: dict | None, labels) -> dict:
    """A clusterer entry completed for one cell: density values chosen from the sample's species counts."""
    labels = np.asarray(labels)
    if not preset or not len(labels):
        return spec
    group_size = None if preset["fixed"] else float(np.median(np.unique(labels, return_counts=True)[1]))
    return with_density_preset(spec, preset["name"], group_size)
