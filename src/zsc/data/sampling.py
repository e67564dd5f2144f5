"""Per (sampling, seed) subsets of the manifest: a registry of sampling kinds."""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

SAMPLE_COLUMNS = ["image_id", "label", "group"]


def _take(frame: pd.DataFrame, counts: dict[str, int], rng: np.random.Generator) -> pd.DataFrame:
    parts = []
    for label, rows in frame.groupby("label", sort=True):
        wanted = counts[label]
        chosen = rng.choice(len(rows), size=min(wanted, len(rows)), replace=False)
        part = rows.iloc[np.sort(chosen)].copy()
        part["requested"] = wanted
        part["short"] = len(rows) < wanted
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def even_counts(sizes: pd.Series, spec: dict, rng: np.random.Generator) -> dict[str, int]:
    return {label: int(spec["per_class"]) for label in sizes.index}


def all_counts(sizes: pd.Series, spec: dict, rng: np.random.Generator) -> dict[str, int]:
    return {label: int(size) for label, size in sizes.items()}


def longtail_counts(sizes: pd.Series, spec: dict, rng: np.random.Generator) -> dict[str, int]:
    """Zipf-like counts: species ranked in a seeded random order get max_per_class / rank**alpha,
    clipped to [min_per_class, max_per_class] (a heavy-tailed, camera-trap-like distribution)."""
    order = rng.permutation(len(sizes))
    ranks = np.empty(len(sizes), dtype=float)
    ranks[order] = np.arange(1, len(sizes) + 1)
    counts = np.clip(
        np.floor(spec["max_per_class"] / ranks ** float(spec.get("alpha", 1.0))),
        spec.get("min_per_class", 2),
        spec["max_per_class"],
    ).astype(int)
    return dict(zip(sizes.index, counts.tolist()))


def uneven_counts(sizes: pd.Series, spec: dict, rng: np.random.Generator) -> dict[str, int]:
    """A uniform random count per species: between min_per_class and max_per_class (inclusive), or,
    without max_per_class, the reference toolkit's rule randint(min(20, available), available)."""
    if spec.get("max_per_class") is None:
        counts = [int(rng.integers(min(20, int(n)), int(n) + 1)) for n in sizes]
    else:
        counts = rng.integers(spec.get("min_per_class", 2), spec["max_per_class"] + 1, size=len(sizes)).tolist()
    return dict(zip(sizes.index, counts))


COUNT_RULES: dict[str, Callable[[pd.Series, dict, np.random.Generator], dict[str, int]]] = {
    "even": even_counts,
    "all": all_counts,
    "longtail": longtail_counts,
    "uneven": uneven_counts,
}


def draw_sample(manifest: pd.DataFrame, spec: dict, seed: int) -> pd.DataFrame:
    """Rows of ``manifest`` chosen for this sampling and seed, with per-species bookkeeping.

    Species with fewer images than ``min_per_class`` are excluded and listed in the
    returned frame's ``attrs['excluded']``; species with fewer than requested keep all
    they have and are flagged ``short``.
    """
    rng = np.random.default_rng(seed)
    sizes = manifest.groupby("label").size().sort_index()
    min_per_class = int(spec.get("min_per_class", 2))
    kept = sizes[sizes >= min_per_class]
    excluded = sorted(sizes[sizes < min_per_class].index)
    if len(kept) < 2:
        raise ValueError(
            f"sampling needs at least 2 species with >= {min_per_class} images; "
            f"found {len(kept)} (species per size: {sizes.to_dict()})"
        )
    if spec.get("n_classes"):  # the reference toolkit's limit on the number of species, drawn per seed
        if spec["n_classes"] > len(kept):
            raise ValueError(
                f"sampling asks for n_classes={spec['n_classes']} species; only {len(kept)} have "
                f">= {min_per_class} images"
            )
        kept = kept.iloc[np.sort(rng.choice(len(kept), size=spec["n_classes"], replace=False))]
    counts = COUNT_RULES[spec["kind"]](kept, spec, rng)
    sample = _take(manifest[manifest["label"].isin(kept.index)], counts, rng)
    columns = SAMPLE_COLUMNS + ["requested", "short"]
    sample = sample[columns].sort_values(["label", "image_id"], ignore_index=True)
    sample.attrs["excluded"] = excluded
    sample.attrs["counts"] = {label: int(n) for label, n in sample.groupby("label").size().items()}
    return sample
