# Shared helpers: validated config, wildcard constraints, input functions. The grid's cells come
# from zsc.grid, every path pattern from zsc.layout: nothing here multiplies axes or spells a path.
import json
import os
import re
import sys

from snakemake.utils import update_config

from zsc import grid, layout
from zsc.config import (
    SCHEMA_PATH,
    ConfigError,
    coerce_overrides,
    duplicate_keys,
    load_schema,
    missing_data,
    validate_config,
)
from zsc.data.scan import folder_fingerprint
from zsc.io import read_species_list
from zsc.embedding import runtime_env
from zsc.methods.density import sampling_density_preset
from zsc.methods.memory import memory_problems
from zsc.sorting.exports import EXPORTS, exports_for, missing_notes

SCHEMA = SCHEMA_PATH  # package data: src/zsc/config/config.schema.yaml
# a key given twice in a config file: YAML keeps the last block silently; refuse, naming file and lines
_duplicates = [
    message for path in (workflow.overwrite_configfiles or workflow.configfiles) for message in duplicate_keys(path)
]
if _duplicates:
    raise WorkflowError("invalid config file:\n  - " + "\n  - ".join(_duplicates))
# --config key=value overrides arrive as strings inside lists and maps: give them the schema's types
update_config(
    config,
    coerce_overrides(workflow.config_settings.overwrite_config or {}, load_schema(SCHEMA)),
)
try:
    _validated = validate_config(config, SCHEMA)
except ConfigError as error:
    raise WorkflowError(str(error)) from None
config.clear()
config.update(_validated)
# fast CPU inference, a shared numba cache and (offline clusters) no hub access, for every job process
runtime_env.apply(hub_offline=config["embed"]["offline"])

# A photo folder that does not exist yet does not stop -n / --dag / --rulegraph (one warning line
# each); a real run stops in onstart, before any job.
MISSING_DATA = missing_data(config)
for _message in MISSING_DATA:
    print(
        f"warning: {_message} (the DAG can be inspected; a run stops before any job)",
        file=sys.stderr,
    )


onstart:
    if MISSING_DATA:
        raise WorkflowError("cannot run:\n  - " + "\n  - ".join(MISSING_DATA))


# Every reduction and cell must fit in its job's memory: estimated from N before any job runs
# (also for -n), so a cell that cannot fit is refused now, not killed hours later on a node.
JOB_MEMORY_MB = {
    "reduce": 8000,
    "cluster": 8000,
}  # the rules' own mem_mb; a profile or --set-resources may change them


def job_memory_limits():
    limits = dict(JOB_MEMORY_MB)
    for rule_name in limits:
        given = workflow.resource_settings.overwrite_resources.get(rule_name, {})
        value = given.get("mem_mb") if hasattr(given, "get") else None
        value = getattr(value, "value", value)
        try:
            limits[rule_name] = float(value) if value is not None else limits[rule_name]
        except (TypeError, ValueError):
            pass  # an expression evaluated per job: keep the rule's default for the estimate
    return limits


if workflow.is_main_process:
    MEMORY_PROBLEMS = memory_problems(config, job_memory_limits())
    if MEMORY_PROBLEMS:
        raise WorkflowError(
            "cells that would not fit in their job's memory (estimated before any job runs):\n  - "
            + "\n  - ".join(MEMORY_PROBLEMS)
        )


NAME = "[A-Za-z0-9][A-Za-z0-9_.-]*"


# Sort rules match configured runs only: results/sort/<run>/labels.csv from a run no longer in the
# config is a plain file (e.g. a benchmark's labels table), not something to rebuild.
SORT_RUN = "|".join(re.escape(run) for run in config.get("sort", {})) or "(?!)"


wildcard_constraints:
    dataset=NAME,
    run=SORT_RUN,
    model=NAME,
    reducer=NAME,
    clusterer=NAME,
    sampling=NAME,
    split=NAME,
    seed=r"\d+",
    shard=r"\d+",


DATASETS = grid.names(config, "datasets")
MODELS = grid.names(config, "models")
REDUCERS = grid.names(config, "reducers")
CLUSTERERS = grid.names(config, "clusterers")
SORT_RUNS = list(config.get("sort", {}))


# ---------------------------------------------------------------- benchmark datasets


def dataset_root(dataset):
    """Folder of photos: generated demo data or the user's root."""
    spec = config["datasets"][dataset]
    return layout.fill(layout.DEMO_PHOTOS, dataset=dataset) if "demo" in spec else spec["root"]


def get_demo_folder(wildcards):
    """The generated demo folder is a rule output; a user's folder is not an input file."""
    return [dataset_root(wildcards.dataset)] if "demo" in config["datasets"][wildcards.dataset] else []


EMBED_SHARDS = config["embed"]["shards"]


def embed_shard_files(kind):
    """The shard outputs (kind: embeddings, rejects, stats) of one (dataset, model) embedding, as an input function."""
    return lambda wildcards: [
        layout.fill(
            layout.SHARD[kind],
            dataset=wildcards.dataset,
            model=wildcards.model,
            shard=shard,
            n_shards=EMBED_SHARDS,
        )
        for shard in range(EMBED_SHARDS)
    ]


def get_scan_inputs(wildcards):
    """Generated demo photos, and the labels CSV of a dataset labelled by a table."""
    spec = config["datasets"][wildcards.dataset]
    inputs = {"demo": dataset_root(wildcards.dataset)} if "demo" in spec else {}
    return {**inputs, "labels": spec["labels"]} if spec.get("labels") else inputs


def get_scan_fingerprint(wildcards):
    """Changes when files under a user's root change, so the scan reruns (demo data: its rule decides)."""
    if "demo" in config["datasets"][wildcards.dataset]:
        return "generated"
    return folder_fingerprint(dataset_root(wildcards.dataset))


def get_density_preset(wildcards):
    """The sampling's HDBSCAN/DBSCAN preset; unless the sampling names one, checked against each sample."""
    return sampling_density_preset(config["samplings"][wildcards.sampling])


def hub_models():
    return [model for model in MODELS if config["models"][model]["weights"] == "hub"]


def get_prefetched_weights(wildcards):
    """Offline clusters: an embed job needs its hub weights fetched first (fetch_weights, a local rule)."""
    if config["embed"]["offline"] and config["models"][wildcards.model]["weights"] == "hub":
        return [layout.fill(layout.WEIGHTS, model=wildcards.model)]
    return []


def get_split_group(wildcards):
    """The group a split sample keeps (None: the pooled sample keeps every group)."""
    return None if wildcards.split == grid.POOLED else wildcards.split


def cell_files(pattern):
    """Input function: one file per grid cell of the dataset (layout.CELL_METRICS or layout.CELL_LABELS)."""
    return lambda wildcards: [
        layout.fill(pattern, **cell.wildcards()) for cell in grid.cells(config, wildcards.dataset)
    ]


def cell_keys(wildcards):
    """The cells of the dataset, in the order of cell_files(): a step looks a cell's files up by its key."""
    return [grid.cell_key(cell.wildcards()) for cell in grid.cells(config, wildcards.dataset)]


SUBCLUSTER_REDUCERS = config.get("subclusters", {}).get("reducers") or REDUCERS


def subcluster_files(pattern):
    """Input function: one sub-clustering per reduction the grid computes (of the subclusters' reducers)."""
    return lambda wildcards: [
        layout.fill(pattern, **reduction.wildcards())
        for reduction in grid.reductions(config, wildcards.dataset, SUBCLUSTER_REDUCERS)
    ]


def subcluster_keys(wildcards):
    """model/reducer/sampling/split/seed of each file of subcluster_files(), in the same order."""
    return [
        grid.reduction_key(reduction.wildcards())
        for reduction in grid.reductions(config, wildcards.dataset, SUBCLUSTER_REDUCERS)
    ]


def reduction_files(pattern):
    """Input function: every reduction of the dataset's grid (layout.REDUCED_POINTS or layout.REDUCED_INFO)."""
    return lambda wildcards: [
        layout.fill(pattern, **reduction.wildcards()) for reduction in grid.reductions(config, wildcards.dataset)
    ]


def reduction_keys(wildcards):
    return [grid.reduction_key(reduction.wildcards()) for reduction in grid.reductions(config, wildcards.dataset)]


# ---------------------------------------------------------------- sort runs (their own path space)


def sort_root(run):
    """A sort run's photos: generated demo photos (resources/demo-sort/<run>) or the user's folder."""
    spec = config["sort"][run]
    return layout.fill(layout.SORT_DEMO_PHOTOS, run=run) if "demo" in spec else spec["root"]


def sort_run_spec(run):
    """What sorting depends on: the run's entry without its review CSV and species list, so applying
    a review (or updating either) never re-clusters."""
    return {key: value for key, value in config["sort"][run].items() if key not in ("review", "species")}


def sort_review_csv(run):
    """The run's review CSV: sort.<run>.review, else reviews/<run>.csv once a reviewer saved it there."""
    given = config["sort"][run].get("review")
    if given:
        return given
    conventional = layout.fill(layout.REVIEW_INBOX, run=run)
    return conventional if os.path.isfile(conventional) else None


def sort_known_csv(run):
    """The reviewed labels a run starts from (sort.<run>.known), or None: none yet. The run's own review
    CSV may be named before it exists (the first week); any other file must exist (config check)."""
    given = config["sort"][run].get("known")
    return given if given and os.path.isfile(given) else None


def get_sort_known(wildcards):
    known = sort_known_csv(wildcards.run)
    return {"known": known} if known else {}


def sort_vocabulary(run):
    """The names a reviewer may give (sort.<run>.species: a list, or a file of one name per line)."""
    species = config["sort"][run].get("species") or []
    if isinstance(species, str):
        try:
            return read_species_list(species)
        except (OSError, ValueError) as error:
            raise WorkflowError(f"config key 'sort.{run}.species': {error}") from None
    return list(species)


def sort_apply_hint(run):
    """What the review page tells the reviewer: where to save the export and the command that applies it."""
    # not the config file's name: a job's params are part of what reruns it, and naming the same
    # config differently must not rebuild a season's thumbnails
    csv = config["sort"][run].get("review") or layout.fill(layout.REVIEW_INBOX, run=run)
    return {
        "csv": csv,
        "file": os.path.basename(csv),
        "project": os.getcwd(),
        "command": "snakemake --cores all",
        "note": "add the same --configfile as this run's, if it had one",
    }


def sort_units_root(run):
    """Where the photos a run sorts are: its animal crops for a camera-trap run, else its root."""
    if "detections" in config["sort"][run]:
        return layout.fill(layout.SORT_CROPS, run=run)
    return sort_root(run)


def get_sort_units_manifest(wildcards):
    """The manifest of what a run sorts: its crops' (camera-trap run), else the scan's."""
    if "detections" in config["sort"][wildcards.run]:
        return layout.fill(layout.SORT_CROP_MANIFEST, run=wildcards.run)
    return layout.fill(layout.SORT_MANIFEST, run=wildcards.run)


def sort_export_notes(run):
    """What the apply step says about exports a run cannot get yet (a camera-trap run without deployments)."""
    return missing_notes(run, config["sort"][run])


# what an export may read (zsc.sorting.exports.EXPORT_INPUTS), by name
EXPORT_INPUT_PATTERNS = {
    "frames": layout.SORT_FRAMES,
    "crops": layout.SORT_CROP_MANIFEST,
    "labels": layout.SORT_LABELS,
    "assignments": layout.SORT_ASSIGNMENTS,
}


def get_export_inputs(export):
    """An export rule's inputs: the run tables it reads, and the run's deployments CSV where it needs one."""

    def inputs(wildcards):
        paths = {
            name: layout.fill(EXPORT_INPUT_PATTERNS[name], run=wildcards.run)
            for name in export.inputs
            if name in EXPORT_INPUT_PATTERNS
        }
        for name in ("deployments", "detections"):  # the user's own files, named in the run's config
            if name in export.inputs:
                paths[name] = config["sort"][wildcards.run][name]
        return paths

    return inputs


def get_export_context(export):
    """An export job's params: the run's name, its inbox and the run config keys the export takes."""

    def context(wildcards):
        spec = config["sort"][wildcards.run]
        return {
            "run": wildcards.run,
            "root": sort_root(wildcards.run),
            **{key: spec[key] for key in export.params},
        }

    return context


def get_sort_frames_manifest(wildcards):
    """A camera-trap run's page shows each crop's frame: the scan's manifest (content hashes for the cache)."""
    if "detections" in config["sort"][wildcards.run]:
        return {"frames_manifest": layout.fill(layout.SORT_MANIFEST, run=wildcards.run)}
    return {}


def get_sort_frames(wildcards):
    if "detections" in config["sort"][wildcards.run]:
        return {"frames": layout.fill(layout.SORT_FRAMES, run=wildcards.run)}
    return {}


def get_sort_demo_folder(wildcards):
    return [sort_root(wildcards.run)] if "demo" in config["sort"][wildcards.run] else []


def get_sort_fingerprint(wildcards):
    """Changes when photos are added to, removed from or changed in the inbox, so the scan reruns."""
    if "demo" in config["sort"][wildcards.run]:
        return "generated"
    return folder_fingerprint(sort_root(wildcards.run))


def get_sort_benchmark_tables(wildcards):
    """A sort run on a benchmark's best setting waits for that benchmark's tables."""
    benchmark = config["sort"][wildcards.run].get("benchmark")
    if not benchmark:
        return {}
    return {
        "summary": layout.fill(layout.TABLES["summary"], dataset=benchmark),
        "metrics": layout.fill(layout.TABLES["csv"], dataset=benchmark),
    }


def get_sort_choices(wildcards):
    """The entries the sort run may use: its explicit setting's, or every one of its benchmark's grid."""
    spec = config["sort"][wildcards.run]
    if "setting" in spec:
        chosen = spec["setting"]
        names = {
            "models": [chosen["model"]],
            "reducers": [chosen["reducer"]],
            "clusterers": [chosen["clusterer"]],
        }
    else:
        names = {"models": MODELS, "reducers": REDUCERS, "clusterers": CLUSTERERS}
    return {registry: {name: config[registry][name] for name in chosen} for registry, chosen in names.items()}


def get_sort_embeddings(wildcards):
    """The inbox embedded with the chosen model (known once the sort_setting checkpoint has run)."""
    with open(checkpoints.sort_setting.get(run=wildcards.run).output[0]) as handle:
        model = json.load(handle)["model"]
    return layout.fill(layout.SORT_EMBEDDINGS, run=wildcards.run, model=model)


# ---------------------------------------------------------------- targets


def sort_targets():
    """Every sort run's folders and review page, and named folders where a review CSV is given."""
    targets = [
        layout.fill(pattern, run=run)
        for run in SORT_RUNS
        for pattern in (layout.SORT_ASSIGNMENTS, layout.SORT_REVIEW_PAGE, layout.SORT_MAP)
    ]
    reviewed = [run for run in SORT_RUNS if sort_review_csv(run)]
    targets += [layout.fill(layout.SORT_LABELS, run=run) for run in reviewed]
    return targets + [
        layout.fill(export.output, run=run) for run in reviewed for export in exports_for(config["sort"][run])
    ]


def all_targets():
    targets = []
    for dataset in DATASETS:
        targets += [
            layout.fill(layout.TABLES["csv"], dataset=dataset),
            layout.fill(layout.PLOTS["heatmap"], dataset=dataset),
        ]
        if config["review"]["gallery_top"]:
            targets.append(layout.fill(layout.GALLERY, dataset=dataset))
        if "subclusters" in config:
            targets.append(layout.fill(layout.SUBCLUSTER_ATTRIBUTES, dataset=dataset))
    return targets + sort_targets()
