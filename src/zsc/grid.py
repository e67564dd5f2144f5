"""The grid: the one enumeration of what a benchmark computes.

datasets x splits x samplings x seeds x models x reducers x clusterers, minus ``grid.exclude``. The
workflow's input functions, the memory check, the config checks and the bench all ask this module;
nothing else multiplies the axes.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import asdict, dataclass, fields

POOLED = "pooled"  # the split name of a dataset clustered as a whole
CELL_AXES = ("models", "reducers", "clusterers", "samplings")


@dataclass(frozen=True)
class Cell:
    """One (model, reducer, clusterer, sampling, split, seed) of a dataset: one cluster job."""

    dataset: str
    model: str
    reducer: str
    clusterer: str
    sampling: str
    split: str
    seed: str

    def wildcards(self) -> dict[str, str]:
        return asdict(self)

    def reduction(self) -> Reduction:
        return Reduction(self.dataset, self.model, self.reducer, self.sampling, self.split, self.seed)


@dataclass(frozen=True, order=True)
class Reduction:
    """One (model, reducer, sampling, split, seed) of a dataset: one reduce job, shared by its cells."""

    dataset: str
    model: str
    reducer: str
    sampling: str
    split: str
    seed: str

    def wildcards(self) -> dict[str, str]:
        return asdict(self)


# a cell's and a reduction's keys within a dataset, in path order (zsc.layout, the metrics table)
CELL_KEYS = tuple(field.name for field in fields(Cell) if field.name != "dataset")
REDUCTION_KEYS = tuple(field.name for field in fields(Reduction) if field.name != "dataset")


def names(config: dict, axis: str) -> list[str]:
    """Names on one axis (datasets, models, reducers, clusterers, samplings), in config order."""
    chosen = config["grid"].get(axis)
    return list(chosen) if chosen else list(config[axis])


def excluded(config: dict, **cell: str) -> bool:
    """True when a grid.exclude rule matches every key it names in ``cell`` (a list matches any of its names).

    A partial cell (no clusterer, say) matches only rules that name none of its missing keys."""

    def matches(value, wanted) -> bool:
        return value in wanted if isinstance(wanted, list) else value == wanted

    return any(
        all(matches(cell.get(key), wanted) for key, wanted in rule.items()) for rule in config["grid"]["exclude"]
    )


def splits(config: dict, dataset: str) -> list[str]:
    """The splits a dataset is clustered in: its groups (split_by: group), or the whole (pooled)."""
    spec = config["datasets"][dataset]
    return list(spec["splits"]) if spec.get("split_by") else [POOLED]


def seeds(config: dict) -> list[str]:
    return [str(seed) for seed in config["seeds"]]


def cells(config: dict, dataset: str) -> Iterator[Cell]:
    """Every cell of ``dataset`` not excluded by grid.exclude."""
    for model, reducer, clusterer, sampling, split, seed in itertools.product(
        names(config, "models"),
        names(config, "reducers"),
        names(config, "clusterers"),
        names(config, "samplings"),
        splits(config, dataset),
        seeds(config),
    ):
        if not excluded(config, model=model, reducer=reducer, clusterer=clusterer, sampling=sampling):
            yield Cell(dataset, model, reducer, clusterer, sampling, split, seed)


def reductions(config: dict, dataset: str, reducers: list[str] | None = None) -> list[Reduction]:
    """The reductions the cells of ``dataset`` need (optionally only those of ``reducers``), sorted."""
    wanted = set(reducers) if reducers else None
    return sorted({cell.reduction() for cell in cells(config, dataset) if wanted is None or cell.reducer in wanted})


def cell_key(cell) -> str:
    """``model/reducer/clusterer/sampling/split/seed`` of a cell (a mapping or a metrics row): the key
    a step looks a cell's files up by, among the paths its rule gave it."""
    return "/".join(str(cell[key]) for key in CELL_KEYS)


def reduction_key(reduction) -> str:
    return "/".join(str(reduction[key]) for key in REDUCTION_KEYS)
