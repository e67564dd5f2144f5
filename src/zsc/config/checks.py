"""Pass 3: checks across keys: every name refers to an entry, every parameter belongs to its method,
the grid keeps at least one cell, sort runs can be sized without labels."""

from __future__ import annotations

import itertools
from pathlib import Path

from zsc import grid
from zsc.embedding.weights import PACKAGED_WEIGHTS, weights_file_problem
from zsc.grid import POOLED
from zsc.methods.clusterers import CLUSTERER_METHODS, K_GIVEN
from zsc.methods.density import DENSITY_KEYS_OF
from zsc.methods.reducers import REDUCER_METHODS

GRID_AXES = {"models": "model", "reducers": "reducer", "clusterers": "clusterer", "samplings": "sampling"}


# the schema ships inside the package, so `python -m zsc.config` finds it in any install


RESERVED_DATASET_NAMES = frozenset({"sort"})  # results/sort/ holds the sort runs


def _check_grid(config: dict) -> list[str]:
    errors = []
    grid_spec = config["grid"]
    axes = [grid.names(config, axis) for axis in GRID_AXES]
    if all(axes) and all(
        grid.excluded(config, **dict(zip(GRID_AXES.values(), cell))) for cell in itertools.product(*axes)
    ):
        errors.append("config key 'grid.exclude': removes every cell of the grid; nothing would run")
    for axis in [*GRID_AXES, "datasets"]:
        for name in grid_spec.get(axis, []):
            if name not in config[axis]:
                errors.append(f"config key 'grid.{axis}': unknown name '{name}'; allowed: {sorted(config[axis])}")
    for index, rule in enumerate(grid_spec.get("exclude", [])):
        for axis, singular in GRID_AXES.items():
            names = rule.get(singular, [])
            for name in names if isinstance(names, list) else [names]:
                if name not in config[axis]:
                    errors.append(
                        f"config key 'grid.exclude.{index}.{singular}': unknown name '{name}'; "
                        f"allowed: {sorted(config[axis])}"
                    )
    return errors


TIMM_NAMES_CODE = (
    "import json; from zsc.embedding.torchvision_compat import ensure_torchvision; "
    "ensure_torchvision(); import timm; print(json.dumps(sorted(timm.list_models())))"
)


def _timm_model_names() -> frozenset[str]:
    """Every architecture name timm registers, from a per-version cache file (``$XDG_CACHE_HOME/zsc/``).

    Listing them imports timm and torch (~2 s): that happens once per timm version, in a child
    process, so a Snakefile parse (and each SLURM job's re-parse) imports neither."""
    import json
    import os
    import subprocess
    import sys
    from importlib.metadata import version

    cache = (
        Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "zsc" / f"timm-{version('timm')}-models.json"
    )
    try:
        return frozenset(json.loads(cache.read_text()))
    except (OSError, ValueError):
        pass
    listed = subprocess.run([sys.executable, "-c", TIMM_NAMES_CODE], capture_output=True, text=True, check=True).stdout
    try:
        from zsc.io import atomic_path

        with atomic_path(cache) as temporary:
            Path(temporary).write_text(listed)
    except OSError:
        pass  # a read-only home: list them again next time
    return frozenset(json.loads(listed))


def _timm_knows(model_id: str) -> bool:
    return model_id.split(".", 1)[0] in _timm_model_names()


def _check_models(config: dict) -> list[str]:
    errors = []
    for name, spec in config["models"].items():
        if spec["backend"] == "timm" and not _timm_knows(spec["id"]):
            errors.append(
                f"config key 'models.{name}.id': timm has no model '{spec['id']}' "
                f"(list them with: python -c \"import timm; print(timm.list_models('*vit*'))\")"
            )
            continue
        weights = spec["weights"]
        if weights.startswith("package:"):
            package = weights.split(":", 1)[1]
            if package not in PACKAGED_WEIGHTS:
                errors.append(
                    f"config key 'models.{name}.weights': unknown package weights '{package}'; "
                    f"allowed: {['package:' + p for p in sorted(PACKAGED_WEIGHTS)]}"
                )
            elif spec["id"] != PACKAGED_WEIGHTS[package].timm_arch:
                errors.append(
                    f"config key 'models.{name}.id': package weights '{package}' fit "
                    f"'{PACKAGED_WEIGHTS[package].timm_arch}', not '{spec['id']}'"
                )
        elif weights not in ("hub", "random") and not Path(weights).is_file():
            errors.append(
                f"config key 'models.{name}.weights': no such weights file '{weights}' "
                f"(use hub, random, package:<name> or a file path)"
            )
        elif weights not in ("hub", "random") and (problem := weights_file_problem(weights)):
            errors.append(f"config key 'models.{name}.weights': '{weights}' {problem}")
    return errors


def _check_methods(config: dict) -> list[str]:
    """Each entry may set only the parameters its method declares (see the registries)."""
    errors = []
    for registry, methods in (("clusterers", CLUSTERER_METHODS), ("reducers", REDUCER_METHODS)):
        for name, spec in config[registry].items():
            declared = methods[spec["method"]].declared()
            for key in sorted(set(spec) - {"method"} - set(declared)):
                hint = " (a density method finds k itself)" if key == "k" else ""
                errors.append(
                    f"config key '{registry}.{name}.{key}': not a parameter of {spec['method']}{hint}; "
                    f"its parameters: {declared}"
                )
    for name, spec in config["clusterers"].items():
        k = spec.get("k")
        if isinstance(k, str) and k.endswith("x") and float(k[:-1]) <= 0:
            errors.append(f"config key 'clusterers.{name}.k': '{k}' asks for 0 times the species count")
    return errors


def _check_samplings(config: dict) -> list[str]:
    return [
        f"config key 'samplings.{name}.min_per_class': {spec['min_per_class']} is larger than "
        f"max_per_class {spec['max_per_class']}"
        for name, spec in config["samplings"].items()
        if spec.get("max_per_class") and spec["min_per_class"] > spec["max_per_class"]
    ]


def _check_subclusters(config: dict) -> list[str]:
    chosen = config.get("subclusters", {}).get("reducers", [])
    return [
        f"config key 'subclusters.reducers': unknown name '{name}'; allowed: {sorted(config['reducers'])}"
        for name in chosen
        if name not in config["reducers"]
    ]


def _sort_candidate_clusterers(config: dict, spec: dict) -> list[str]:
    """Clusterers a sort run may end up with: its explicit one, or any of its benchmark's grid."""
    if "setting" in spec:
        chosen = spec["setting"]["clusterer"]
        return [chosen] if chosen in config["clusterers"] else []
    return grid.names(config, "clusterers")


def _check_sort_clusterer(config: dict, name: str, spec: dict) -> list[str]:
    """There are no labels to count in a sort run: k and density sizes must come from the config."""
    errors = []
    for clusterer in _sort_candidate_clusterers(config, spec):
        method = config["clusterers"][clusterer]["method"]
        if method in K_GIVEN and "k" not in spec:
            errors.append(
                f"config key 'sort.{name}.k': clusterer '{clusterer}' ({method}) needs the number of "
                f"groups you expect; set sort.{name}.k"
            )
            break
        has_sizes = all(key in config["clusterers"][clusterer] for key in DENSITY_KEYS_OF.get(method, ()))
        if "setting" in spec and not has_sizes and "expected_group_size" not in spec:
            errors.append(
                f"config key 'sort.{name}.expected_group_size': clusterer '{clusterer}' ({method}) "
                f"sets no min_cluster_size/min_samples; give the photos per species you expect, "
                f"or set them on clusterers.{clusterer}"
            )
    return errors


def _check_sort(config: dict) -> list[str]:
    errors = []
    registries = {"model": "models", "reducer": "reducers", "clusterer": "clusterers"}
    for name, spec in config.get("sort", {}).items():
        for key, registry in registries.items():
            value = spec.get("setting", {}).get(key)
            if value is not None and value not in config[registry]:
                errors.append(
                    f"config key 'sort.{name}.setting.{key}': unknown name '{value}'; "
                    f"allowed: {sorted(config[registry])}"
                )
        if spec.get("benchmark") and spec["benchmark"] not in config["datasets"]:
            errors.append(
                f"config key 'sort.{name}.benchmark': unknown dataset '{spec['benchmark']}'; "
                f"allowed: {sorted(config['datasets'])}"
            )
        errors.extend(_check_sort_clusterer(config, name, spec))
        errors.extend(_check_sort_known(name, spec))
    return errors


def _check_sort_known(name: str, spec: dict) -> list[str]:
    """A run's review CSV and reviewed labels come from a reviewer: never this run's own outputs (it would
    wait on itself, or apply its own guesses), and of another sort run's outputs only its applied
    ``labels.csv`` (``assignments.csv`` has a ``label`` column of cluster names, not a review)."""
    from zsc import layout

    own = Path(layout.fill(layout.SORT_RUN, run=name)).resolve()
    sort_results = own.parent
    hint = f"name the CSV exported from the review page ({layout.fill(layout.REVIEW_INBOX, run=name)}), or a copy of it"
    errors = []
    for key in ("review", "known"):
        if not spec.get(key):
            continue
        path = Path(spec[key]).resolve()
        if own in path.parents:
            errors.append(f"config key 'sort.{name}.{key}': '{spec[key]}' is an output of this run; {hint}")
        elif sort_results in path.parents and path.name != "labels.csv":
            errors.append(
                f"config key 'sort.{name}.{key}': '{spec[key]}' is an output of a sort run, not a review "
                f"(only a run's applied labels.csv holds reviewed labels); {hint}"
            )
    return errors


def check_splits(config: dict) -> list[str]:
    errors = []
    for name, spec in config["datasets"].items():
        if spec.get("splits") and not spec.get("split_by"):
            errors.append(f"config key 'datasets.{name}.splits': set split_by: group to use splits")
        if POOLED in spec.get("splits", []):
            errors.append(f"config key 'datasets.{name}.splits': '{POOLED}' is reserved for unsplit datasets")
    return errors


def cross_key_errors(config: dict) -> list[str]:
    errors = [
        f"config key 'datasets.{name}': the name '{name}' is reserved"
        for name in config["datasets"]
        if name in RESERVED_DATASET_NAMES
    ]
    return (
        errors
        + _check_grid(config)
        + _check_models(config)
        + _check_methods(config)
        + _check_samplings(config)
        + _check_subclusters(config)
        + _check_sort(config)
        + check_splits(config)
    )
