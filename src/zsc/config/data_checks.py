"""Pass 4: what the photos on disk allow (from names only: cheap at every parse): folders that exist
and can be read, enough species, k within the photos, labels tables, splits with two species."""

from __future__ import annotations

import itertools
from pathlib import Path

from zsc.data.folders import (
    groups_found,
    image_folders,
    root_problem,
    sample_size_bound,
    species_folders,
    species_per_group,
)


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
    for name, spec in config.get("sort", {}).items():
        if spec.get("review"):
            files[f"sort.{name}.review"] = spec["review"]
        if isinstance(spec.get("species"), str):
            files[f"sort.{name}.species"] = spec["species"]
        for key in ("detections", "deployments"):
            if spec.get(key):
                files[f"sort.{name}.{key}"] = spec[key]
        if spec.get("known") and not _is_review_csv(name, spec, spec["known"]):
            files[f"sort.{name}.known"] = spec["known"]
    return files


def _is_review_csv(name: str, spec: dict, path: str) -> bool:
    """The run's own review CSV may be named as its reviewed labels before the first review exists."""
    from zsc import layout

    review = spec.get("review") or layout.fill(layout.REVIEW_INBOX, run=name)
    return Path(path).resolve() == Path(review).resolve()


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


def _sort_inboxes(config: dict) -> dict[str, dict[str, int]]:
    """Sort run -> its inbox's image files per folder: each inbox walked once per check of the config."""
    return {
        name: image_folders(Path(spec["root"]))
        for name, spec in config.get("sort", {}).items()
        if spec.get("root") and "demo" not in spec and not root_problem(spec["root"])
    }


def _check_sort_photos(config: dict, inboxes: dict[str, dict[str, int]]) -> list[str]:
    """What the inbox's photo count (from names: cheap) rules out before any job: k, the expected group
    size or the reducer's components over the photos. Exact duplicates are known only after the scan:
    the sort job says so in one line."""
    errors = []
    for name, folders in inboxes.items():
        spec = config["sort"][name]
        n_photos = sum(folders.values())
        reducer = config["reducers"].get((spec.get("setting") or {}).get("reducer"), {})
        bounds = {
            "k": spec.get("k"),
            "expected_group_size": spec.get("expected_group_size"),
        }
        for key, value in bounds.items():
            if value and value > n_photos:
                errors.append(
                    f"config key 'sort.{name}.{key}': {key}={value} exceeds the {n_photos} photos under '{spec['root']}'"
                )
        components = reducer.get("n_components")
        if isinstance(components, int) and components > n_photos:
            errors.append(
                f"config key 'reducers.{spec['setting']['reducer']}.n_components': {components} components for "
                f"sort run '{name}', whose inbox has {n_photos} photos under '{spec['root']}'"
            )
    return errors


def _check_sort_deployments(config: dict, inboxes: dict[str, dict[str, int]]) -> list[str]:
    """A camera-trap run's deployments CSV, checked before any job: ranges, ISO 8601 dates with offsets,
    unique ids, start before end, a row for every camera of the inbox (from the folder names)."""
    from zsc.data.deployments import deployment_problems
    from zsc.data.sequences import inbox_cameras

    errors = []
    for name, spec in config.get("sort", {}).items():
        path = spec.get("deployments")
        if not path or not Path(path).is_file():
            continue  # a missing file: reported by missing_data()
        folders = inboxes.get(name)
        cameras = inbox_cameras(spec["root"], spec.get("camera_level"), folders) if folders is not None else None
        errors += [
            f"config key 'sort.{name}.deployments': {path}: {problem}" for problem in deployment_problems(path, cameras)
        ]
    return errors


def _check_split_photos(config: dict) -> list[str]:
    """Listed splits must be groups the photos have, each with at least two species."""
    errors = []
    for name, spec in config["datasets"].items():
        if not spec.get("split_by") or not spec.get("splits"):
            continue
        found = groups_found(spec)
        if found is not None and set(spec["splits"]) - set(found):
            errors.append(
                f"config key 'datasets.{name}.splits': {sorted(set(spec['splits']) - set(found))} "
                f"not among the groups found: {found}"
            )
        per_group = species_per_group(spec)
        for split in spec["splits"]:
            if per_group is not None and split in per_group and len(per_group[split]) < 2:
                errors.append(
                    f"config key 'datasets.{name}.splits': split '{split}' has {len(per_group[split])} "
                    f"species ({sorted(per_group[split])}); clustering a split needs at least 2"
                )
    return errors


def data_errors(config: dict) -> list[str]:
    inboxes = _sort_inboxes(config)
    return (
        _check_datasets(config)
        + _check_sort_photos(config, inboxes)
        + _check_sort_deployments(config, inboxes)
        + _check_split_photos(config)
    )
