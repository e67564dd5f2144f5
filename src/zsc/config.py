"""Config validation: JSON schema (with defaults filled everywhere) plus cross-key checks.

Every error names the offending key as a dotted path and, where there is a
closed set, the allowed values. It runs when the Snakefile is parsed, so a bad
config fails before any job starts.
"""

from __future__ import annotations

import copy
import itertools
from pathlib import Path

import jsonschema
import yaml

from zsc.clusterers import K_GIVEN
from zsc.images import IMAGE_EXTENSIONS
from zsc.weights import PACKAGED_WEIGHTS

GRID_AXES = {"models": "model", "reducers": "reducer", "clusterers": "clusterer", "samplings": "sampling"}


class ConfigError(ValueError):
    """A config value that cannot work; the message names the key."""


def _fill_defaults(validator_class):
    """A validator that also writes schema defaults, inside additionalProperties maps too."""
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, subschema in properties.items():
                if "default" in subschema and name not in instance:
                    instance[name] = copy.deepcopy(subschema["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": set_defaults})


def _key_path(error: jsonschema.ValidationError) -> str:
    return ".".join(str(part) for part in error.absolute_path) or "<top level>"


def schema_errors(config: dict, schema: dict) -> list[str]:
    validator = _fill_defaults(jsonschema.Draft202012Validator)(schema)
    messages = []
    for error in sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path))):
        detail = error.message
        if error.validator == "oneOf" and error.context:
            detail = "; ".join(sorted({sub.message for sub in error.context}))
        messages.append(f"config key '{_key_path(error)}': {detail}")
    return messages


def _check_grid(config: dict) -> list[str]:
    errors = []
    grid = config["grid"]
    for axis in [*GRID_AXES, "datasets"]:
        for name in grid.get(axis, []):
            if name not in config[axis]:
                errors.append(f"config key 'grid.{axis}': unknown name '{name}'; allowed: {sorted(config[axis])}")
    for index, rule in enumerate(grid.get("exclude", [])):
        for axis, singular in GRID_AXES.items():
            names = rule.get(singular, [])
            for name in names if isinstance(names, list) else [names]:
                if name not in config[axis]:
                    errors.append(f"config key 'grid.exclude.{index}.{singular}': unknown name '{name}'; "
                                  f"allowed: {sorted(config[axis])}")
    return errors


def _check_models(config: dict) -> list[str]:
    errors = []
    for name, spec in config["models"].items():
        weights = spec["weights"]
        if weights.startswith("package:"):
            package = weights.split(":", 1)[1]
            if package not in PACKAGED_WEIGHTS:
                errors.append(f"config key 'models.{name}.weights': unknown package weights '{package}'; "
                              f"allowed: {['package:' + p for p in sorted(PACKAGED_WEIGHTS)]}")
            elif spec["id"] != PACKAGED_WEIGHTS[package].timm_arch:
                errors.append(f"config key 'models.{name}.id': package weights '{package}' fit "
                              f"'{PACKAGED_WEIGHTS[package].timm_arch}', not '{spec['id']}'")
        elif weights not in ("hub", "random") and not Path(weights).is_file():
            errors.append(f"config key 'models.{name}.weights': no such weights file '{weights}' "
                          f"(use hub, random, package:<name> or a file path)")
    return errors


def _species_folders(root: Path, label_level: int) -> dict[str, int]:
    """Species name -> number of image-extension files, from folder names only (cheap)."""
    counts: dict[str, int] = {}
    for path in root.rglob("*"):
        if path.is_file() and path.suffix.lower() in IMAGE_EXTENSIONS and not path.name.startswith("."):
            folders = path.relative_to(root).parts[:-1]
            if folders and -len(folders) <= label_level < len(folders):
                counts[folders[label_level]] = counts.get(folders[label_level], 0) + 1
    return counts


def _check_subclusters(config: dict) -> list[str]:
    chosen = config.get("subclusters", {}).get("reducers", [])
    return [f"config key 'subclusters.reducers': unknown name '{name}'; allowed: {sorted(config['reducers'])}"
            for name in chosen if name not in config["reducers"]]


def _check_sort(config: dict) -> list[str]:
    errors = []
    registries = {"model": "models", "reducer": "reducers", "clusterer": "clusterers"}
    for name, spec in config.get("sort", {}).items():
        for key, registry in registries.items():
            value = spec.get("setting", {}).get(key)
            if value is not None and value not in config[registry]:
                errors.append(f"config key 'sort.{name}.setting.{key}': unknown name '{value}'; "
                              f"allowed: {sorted(config[registry])}")
        if spec.get("benchmark") and spec["benchmark"] not in config["datasets"]:
            errors.append(f"config key 'sort.{name}.benchmark': unknown dataset '{spec['benchmark']}'; "
                          f"allowed: {sorted(config['datasets'])}")
        if spec.get("root") and not Path(spec["root"]).is_dir():
            errors.append(f"config key 'sort.{name}.root': folder '{spec['root']}' does not exist")
    return errors


def _check_datasets(config: dict) -> list[str]:
    errors = []
    for name, spec in config["datasets"].items():
        if spec.get("attributes") and not Path(spec["attributes"]).is_file():
            errors.append(f"config key 'datasets.{name}.attributes': no such file '{spec['attributes']}'")
        if "demo" in spec:
            continue
        root = Path(spec["root"])
        if not root.is_dir():
            errors.append(f"config key 'datasets.{name}.root': folder '{root}' does not exist")
            continue
        species = _species_folders(root, spec["label_level"])
        if not species:
            errors.append(f"config key 'datasets.{name}.root': no images found in species folders under '{root}'")
        elif len(species) < 2:
            errors.append(f"config key 'datasets.{name}.root': found {len(species)} species folder "
                          f"({sorted(species)}); clustering needs at least 2")
        else:
            errors.extend(_check_k_against_samples(config, name, species))
    return errors


def _sample_size_bound(sampling: dict, species: dict[str, int]) -> int:
    kept = [n for n in species.values() if n >= sampling["min_per_class"]]
    per_class = sampling.get("per_class") or sampling.get("max_per_class")
    return sum(min(n, per_class) if per_class else n for n in kept)


def _check_k_against_samples(config: dict, dataset: str, species: dict[str, int]) -> list[str]:
    errors = []
    for (c_name, c_spec), (s_name, s_spec) in itertools.product(config["clusterers"].items(), config["samplings"].items()):
        k = c_spec.get("k")
        if isinstance(k, int):
            bound = _sample_size_bound(s_spec, species)
            if k > bound:
                errors.append(f"config key 'clusterers.{c_name}.k': k={k} exceeds the at most {bound} images "
                              f"that sampling '{s_name}' draws from dataset '{dataset}'")
    return errors




def _default_k(config: dict) -> None:
    for spec in config["clusterers"].values():
        if spec["method"] in K_GIVEN:
            spec.setdefault("k", "true_k")


def _check_methods(config: dict) -> list[str]:
    errors = []
    for name, spec in config["clusterers"].items():
        if spec["method"] not in K_GIVEN and "k" in spec:
            errors.append(f"config key 'clusterers.{name}.k': {spec['method']} finds k itself; remove k")
    return errors


RESERVED_DATASET_NAMES = frozenset({"sort"})  # results/sort/ holds the sort runs


def validate_config(config: dict, schema_path: Path | str) -> dict:
    """Return a validated copy of ``config`` with defaults filled; raise ConfigError listing every problem."""
    config = copy.deepcopy(dict(config))
    schema = yaml.safe_load(Path(schema_path).read_text())
    errors = schema_errors(config, schema)
    if not errors:
        _default_k(config)
        errors = [f"config key 'datasets.{name}': the name '{name}' is reserved" for name in config["datasets"]
                  if name in RESERVED_DATASET_NAMES]
        errors += (_check_grid(config) + _check_models(config) + _check_methods(config) + _check_subclusters(config)
                  + _check_sort(config) + _check_datasets(config))
    if errors:
        raise ConfigError("invalid config:\n  - " + "\n  - ".join(errors))
    return config


def grid_names(config: dict, axis: str) -> list[str]:
    """Names on one grid axis, in config order."""
    chosen = config["grid"].get(axis)
    return list(chosen) if chosen else list(config[axis])


def excluded(config: dict, **cell: str) -> bool:
    """True when a grid.exclude rule matches every key it names in ``cell`` (a list matches any of its names)."""
    def matches(value, wanted) -> bool:
        return value in wanted if isinstance(wanted, list) else value == wanted

    return any(all(matches(cell.get(key), wanted) for key, wanted in rule.items()) for rule in config["grid"]["exclude"])

