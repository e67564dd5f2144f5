"""Config validation: JSON schema (with defaults filled everywhere) plus cross-key checks.

Every error names the offending key as a dotted path and, where there is a
closed set, the allowed values. It runs when the Snakefile is parsed, so a bad
config fails before any job starts.
"""

from __future__ import annotations

import copy
import itertools
import re
from pathlib import Path

import jsonschema
import yaml

from zsc import grid
from zsc.data.folders import count_images, root_problem, sample_size_bound, species_folders, species_per_group
from zsc.embedding.weights import PACKAGED_WEIGHTS, weights_file_problem
from zsc.grid import POOLED
from zsc.methods.clusterers import CLUSTERER_METHODS, DENSITY_KEYS_OF, K_GIVEN
from zsc.methods.reducers import REDUCER_METHODS

GRID_AXES = {"models": "model", "reducers": "reducer", "clusterers": "clusterer", "samplings": "sampling"}


# the schema ships inside the package, so `python -m zsc.config` finds it in any install
SCHEMA_PATH = Path(__file__).with_name("config.schema.yaml")


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


def _scalar(text: str, types: set[str]):
    """A command-line string as the type the schema wants, or unchanged."""
    lowered = text.strip().lower()
    if "integer" in types and re.fullmatch(r"[+-]?\d+", text.strip()):
        return int(text)
    if "number" in types:
        try:
            return float(text)
        except ValueError:
            pass
    if "boolean" in types and lowered in ("true", "false"):
        return lowered == "true"
    if "null" in types and lowered in ("null", "~", "none"):
        return None
    return text


def _resolve_ref(schema: dict, root: dict) -> dict:
    return root["definitions"][schema["$ref"].rsplit("/", 1)[1]] if "$ref" in schema else schema


def _schema_types(schema: dict, root: dict) -> set[str]:
    """Every JSON type a (sub)schema accepts, through $ref and oneOf/anyOf."""
    schema = _resolve_ref(schema, root)
    types = schema.get("type", [])
    found = set([types] if isinstance(types, str) else types)
    for alternative in schema.get("oneOf", []) + schema.get("anyOf", []):
        found |= _schema_types(alternative, root)
    return found


def coerce_overrides(value, schema: dict, root: dict | None = None):
    """Snakemake's ``--config key=value`` reads nested values as strings (``seeds=[1,2]`` is
    ``['1', '2']``): convert them to the types the schema declares, so overrides work as typed."""
    root = root or schema
    schema = _resolve_ref(schema, root)
    if isinstance(value, dict):
        properties, extra = schema.get("properties", {}), schema.get("additionalProperties")
        return {
            key: coerce_overrides(item, properties.get(key, extra if isinstance(extra, dict) else {}), root)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [coerce_overrides(item, schema.get("items", {}), root) for item in value]
    if isinstance(value, str):
        return _scalar(value, _schema_types(schema, root))
    return value


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
        elif weights not in ("hub", "random") and weights_file_problem(weights):
            errors.append(f"config key 'models.{name}.weights': '{weights}' {weights_file_problem(weights)}")
    return errors


def _check_subclusters(config: dict) -> list[str]:
    chosen = config.get("subclusters", {}).get("reducers", [])
    return [
        f"config key 'subclusters.reducers': unknown name '{name}'; allowed: {sorted(config['reducers'])}"
        for name in chosen
        if name not in config["reducers"]
    ]


def photo_roots(config: dict) -> dict[str, str]:
    """Dotted config key -> folder, for every user photo folder (datasets and sort runs; not demo data)."""
    roots = {f"datasets.{name}.root": spec["root"] for name, spec in config["datasets"].items() if "root" in spec}
    roots.update({f"sort.{name}.root": spec["root"] for name, spec in config.get("sort", {}).items() if "root" in spec})
    return roots


def data_files(config: dict) -> dict[str, str]:
    """Dotted config key -> CSV the user supplies as data: datasets' labels tables and sort runs' reviews."""
    files = {
        f"datasets.{name}.labels": spec["labels"] for name, spec in config["datasets"].items() if spec.get("labels")
    }
    files.update(
        {f"sort.{name}.review": spec["review"] for name, spec in config.get("sort", {}).items() if spec.get("review")}
    )
    return files


def missing_data(config: dict) -> list[str]:
    """Photo folders and data CSVs that do not exist yet: a dry run (-n, --dag, --rulegraph) may go on,
    a real run may not."""
    folders = [
        f"config key '{key}': folder '{root}' does not exist"
        for key, root in photo_roots(config).items()
        if not Path(root).exists()
    ]
    return folders + [
        f"config key '{key}': file '{path}' does not exist"
        for key, path in data_files(config).items()
        if not Path(path).is_file()
    ]


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
        if spec.get("k") and spec.get("root") and not root_problem(spec["root"]):
            n_photos = count_images(Path(spec["root"]))
            if spec["k"] > n_photos:
                errors.append(
                    f"config key 'sort.{name}.k': k={spec['k']} exceeds the {n_photos} photos under '{spec['root']}'"
                )
    return errors


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


def _check_datasets(config: dict) -> list[str]:
    errors = []
    for name, spec in config["datasets"].items():
        if spec.get("attributes") and not Path(spec["attributes"]).is_file():
            errors.append(f"config key 'datasets.{name}.attributes': no such file '{spec['attributes']}'")
        if "demo" in spec or not Path(spec["root"]).exists():
            continue  # a missing folder: reported by missing_data(), fatal only for a real run
        root = Path(spec["root"])
        problem = root_problem(root)
        if problem:
            errors.append(f"config key 'datasets.{name}.root': {problem}")
            continue
        if spec.get("labels"):
            if Path(spec["labels"]).is_file():
                errors.extend(_check_label_table(config, name, spec["labels"]))
            continue
        species = species_folders(root, spec["label_level"])
        if not species:
            symlinked = [p.name for p in root.iterdir() if p.is_symlink() and p.is_dir()]
            hint = f" (symlinked folders are not followed: {sorted(symlinked)[:5]})" if symlinked else ""
            errors.append(
                f"config key 'datasets.{name}.root': no images found in species folders under '{root}'" + hint
            )
        elif len(species) < 2:
            errors.append(
                f"config key 'datasets.{name}.root': found {len(species)} species folder "
                f"({sorted(species)}); clustering needs at least 2"
            )
        else:
            errors.extend(_check_k_against_samples(config, name, species))
    for key, root in photo_roots(config).items():
        problem = root_problem(root) if key.startswith("sort.") and Path(root).exists() else None
        if problem:
            errors.append(f"config key '{key}': {problem}")
        if Path(root).exists() and contains(Path(root), Path.cwd()):
            errors.append(
                f"config key '{key}': the photo folder '{Path(root).resolve()}' contains the working "
                f"directory '{Path.cwd()}': every run would sort its own outputs again; put results "
                f"outside the photos (run snakemake from another folder)"
            )
    return errors


def contains(folder: Path, path: Path) -> bool:
    """Is ``path`` inside ``folder`` (or the folder itself), after resolving links?"""
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def _check_label_table(config: dict, name: str, path: str) -> list[str]:
    from zsc.data.scan import read_label_table

    try:
        table = read_label_table(path)
    except ValueError as error:
        return [f"config key 'datasets.{name}.labels': {error}"]
    species = table.loc[table["label"] != "", "label"].value_counts().to_dict()
    if len(species) < 2:
        return [
            f"config key 'datasets.{name}.labels': {len(species)} labelled species in '{path}'; "
            f"clustering needs at least 2"
        ]
    return _check_k_against_samples(config, name, species)


def _check_k_against_samples(config: dict, dataset: str, species: dict[str, int]) -> list[str]:
    errors = []
    for (c_name, c_spec), (s_name, s_spec) in itertools.product(
        config["clusterers"].items(), config["samplings"].items()
    ):
        k = c_spec.get("k")
        if isinstance(k, int):
            bound = sample_size_bound(s_spec, species)
            if k > bound:
                errors.append(
                    f"config key 'clusterers.{c_name}.k': k={k} exceeds the at most {bound} images "
                    f"that sampling '{s_name}' draws from dataset '{dataset}'"
                )
    return errors


def _default_k(config: dict) -> None:
    for spec in config["clusterers"].values():
        if spec["method"] in K_GIVEN:
            spec.setdefault("k", "true_k")


def _check_samplings(config: dict) -> list[str]:
    return [
        f"config key 'samplings.{name}.min_per_class': {spec['min_per_class']} is larger than "
        f"max_per_class {spec['max_per_class']}"
        for name, spec in config["samplings"].items()
        if spec.get("max_per_class") and spec["min_per_class"] > spec["max_per_class"]
    ]


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


RESERVED_DATASET_NAMES = frozenset({"sort"})  # results/sort/ holds the sort runs


def load_schema(schema_path: Path | str) -> dict:
    return yaml.safe_load(Path(schema_path).read_text())


def validate_config(config: dict, schema_path: Path | str) -> dict:
    """Return a validated copy of ``config`` with defaults filled; raise ConfigError listing every problem."""
    config = copy.deepcopy(dict(config))
    schema = load_schema(schema_path)
    errors = schema_errors(config, schema)
    if not errors:
        _default_k(config)
        errors = [
            f"config key 'datasets.{name}': the name '{name}' is reserved"
            for name in config["datasets"]
            if name in RESERVED_DATASET_NAMES
        ]
        errors += (
            _check_grid(config)
            + _check_models(config)
            + _check_methods(config)
            + _check_samplings(config)
            + _check_subclusters(config)
            + _check_sort(config)
            + _check_datasets(config)
            + _resolve_splits(config)
        )
    if errors:
        raise ConfigError("invalid config:\n  - " + "\n  - ".join(errors))
    for registry in NAMED_REGISTRIES:  # names keep their order (the grid's); keys inside an entry are sorted
        if registry in config:
            config[registry] = {name: canonical(spec) for name, spec in config[registry].items()}
    return config


NAMED_REGISTRIES = ("datasets", "samplings", "models", "reducers", "clusterers", "sort")


def canonical(value):
    """Mappings with sorted keys, recursively: a job's params compare by content, not by key order."""
    if isinstance(value, dict):
        return {key: canonical(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [canonical(item) for item in value]
    return value


class _DuplicateCheckingLoader(yaml.SafeLoader):
    """YAML loading that records keys given twice in one mapping (PyYAML silently keeps the last)."""

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if key in seen:
                self.duplicates.append(f"key '{key}' appears twice (lines {seen[key]} and {line})")
            seen.setdefault(key, line)
        return super().construct_mapping(node, deep=deep)


def duplicate_keys(path: Path | str) -> list[str]:
    """'<path>: key 'x' appears twice (lines a and b)' for each duplicated key in a YAML file."""
    loader = _DuplicateCheckingLoader(Path(path).read_text())
    loader.duplicates = []
    try:
        loader.get_single_data()
    except yaml.YAMLError:
        return []  # syntax errors are reported when the file is loaded
    finally:
        loader.dispose()
    return [f"{path}: {message}" for message in loader.duplicates]


def _resolve_splits(config: dict) -> list[str]:
    """split_by: group needs the group names: listed as ``splits``, or read from the folders / demo."""
    from zsc.data.demo import demo_groups

    errors = []
    for name, spec in config["datasets"].items():
        if not spec.get("split_by"):
            if spec.get("splits"):
                errors.append(f"config key 'datasets.{name}.splits': set split_by: group to use splits")
            continue
        if "demo" in spec:
            found = demo_groups(spec["demo"]["n_species"]) if spec["demo"]["nested"] else []
        elif spec.get("labels"):
            found = _label_table_groups(spec["labels"])
        elif spec["group_level"] is None:
            errors.append(f"config key 'datasets.{name}.split_by': splitting by group needs group_level")
            continue
        elif Path(spec["root"]).is_dir() and not root_problem(spec["root"]):
            found = sorted(species_folders(Path(spec["root"]), spec["group_level"]))
        else:
            found = None  # no photos yet: the listed splits are trusted (a dry run needs them)
        if not spec.get("splits"):
            if found is None:
                errors.append(
                    f"config key 'datasets.{name}.splits': list the groups to cluster separately "
                    f"(the root is absent, so they cannot be read from its folders)"
                )
            elif len(found) < 1:
                errors.append(f"config key 'datasets.{name}.split_by': no group folders found")
            else:
                spec["splits"] = found
        elif found is not None and set(spec["splits"]) - set(found):
            errors.append(
                f"config key 'datasets.{name}.splits': {sorted(set(spec['splits']) - set(found))} "
                f"not among the groups found: {found}"
            )
        per_group = species_per_group(spec)
        for split in spec.get("splits", []):
            if per_group is not None and split in per_group and len(per_group[split]) < 2:
                errors.append(
                    f"config key 'datasets.{name}.splits': split '{split}' has {len(per_group[split])} "
                    f"species ({sorted(per_group[split])}); clustering a split needs at least 2"
                )
        if POOLED in spec.get("splits", []):
            errors.append(f"config key 'datasets.{name}.splits': '{POOLED}' is reserved for unsplit datasets")
    return errors


def _label_table_groups(path: str) -> list[str] | None:
    """The groups of a labels CSV's ``group`` column (None while the file is absent)."""
    from zsc.data.scan import read_label_table

    if not Path(path).is_file():
        return None
    try:
        return sorted(set(read_label_table(path)["group"]) - {""})
    except ValueError:
        return None  # reported by _check_label_table


def check_file(path: Path | str, schema_path: Path | str) -> list[str]:
    """Every problem of a config file, each naming the file and line (YAML) or the key (schema)."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as error:
        return [f"{path}: cannot read ({error.strerror})"]
    try:
        config = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        tab = " (a tab in the indentation: YAML allows spaces only)" if "\t" in text else ""
        return [f"{where}: {getattr(error, 'problem', None) or error}{tab}"]
    problems = duplicate_keys(path)
    try:
        validate_config(config or {}, schema_path)
    except ConfigError as error:
        problems += [line.strip()[2:] for line in str(error).splitlines()[1:]]
    return problems


def main(argv: list[str] | None = None) -> int:
    """python -m zsc.config FILE...: check config files (YAML syntax with file and line, duplicate keys,
    every schema and cross-key error) without starting Snakemake."""
    import sys

    status = 0
    for name in argv if argv is not None else sys.argv[1:]:
        problems = check_file(name, SCHEMA_PATH)
        for problem in problems:
            print(problem)
        if problems:
            status = 1
        else:
            print(f"{name}: ok")
    return status
