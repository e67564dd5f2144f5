# Shared helpers: validated config, wildcard constraints, grid expansion, input functions.
import itertools
import json
import re
import sys
from pathlib import Path

from snakemake.utils import update_config

from zsc import runtime_env
from zsc.clusterers import sampling_density_preset
from zsc.config import (POOLED, ConfigError, coerce_overrides, dataset_splits, duplicate_keys, excluded, grid_names,
                        load_schema, missing_data, validate_config)
from zsc.memory import memory_problems
from zsc.scan import folder_fingerprint


SCHEMA = workflow.source_path("../schemas/config.schema.yaml")
# a key given twice in a config file: YAML keeps the last block silently; refuse, naming file and lines
_duplicates = [message for path in (workflow.overwrite_configfiles or workflow.configfiles) for message in duplicate_keys(path)]
if _duplicates:
    raise WorkflowError("invalid config file:\n  - " + "\n  - ".join(_duplicates))
# --config key=value overrides arrive as strings inside lists and maps: give them the schema's types
update_config(config, coerce_overrides(workflow.config_settings.overwrite_config or {}, load_schema(SCHEMA)))
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
    print(f"warning: {_message} (the DAG can be inspected; a run stops before any job)", file=sys.stderr)


onstart:
    if MISSING_DATA:
        raise WorkflowError("cannot run:\n  - " + "\n  - ".join(MISSING_DATA))


# Every reduction and cell must fit in its job's memory: estimated from N before any job runs
# (also for -n), so a cell that cannot fit is refused now, not killed hours later on a node.
JOB_MEMORY_MB = {"reduce": 8000, "cluster": 8000}  # the rules' own mem_mb; a profile or --set-resources may change them


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
        raise WorkflowError("cells that would not fit in their job's memory (estimated before any job runs):\n  - "
                            + "\n  - ".join(MEMORY_PROBLEMS))


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


DATASETS = grid_names(config, "datasets")
MODELS = grid_names(config, "models")
REDUCERS = grid_names(config, "reducers")
CLUSTERERS = grid_names(config, "clusterers")
SAMPLINGS = grid_names(config, "samplings")
SEEDS = [str(seed) for seed in config["seeds"]]
SORT_RUNS = list(config.get("sort", {}))


# ---------------------------------------------------------------- benchmark datasets


def dataset_root(dataset):
    """Folder of photos: generated demo data or the user's root."""
    spec = config["datasets"][dataset]
    return f"resources/demo/{dataset}" if "demo" in spec else spec["root"]


def get_demo_folder(wildcards):
    """The generated demo folder is a rule output; a user's folder is not an input file."""
    return [dataset_root(wildcards.dataset)] if "demo" in config["datasets"][wildcards.dataset] else []


EMBED_SHARDS = config["embed"]["shards"]


def embed_shard_files(suffix):
    """The shard outputs of one (dataset, model) embedding, as an input function."""
    return lambda wildcards: [
        f"results/{wildcards.dataset}/embeddings/shards/{wildcards.model}/{shard}-of-{EMBED_SHARDS}{suffix}"
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
        return [f"resources/weights/{wildcards.model}.safetensors"]
    return []


def get_split_group(wildcards):
    """The group a split sample keeps (None: the pooled sample keeps every group)."""
    return None if wildcards.split == POOLED else wildcards.split


def cells(dataset):
    """Every (model, reducer, clusterer, sampling, split, seed) of the dataset not excluded by grid.exclude."""
    for model, reducer, clusterer, sampling, split, seed in itertools.product(
            MODELS, REDUCERS, CLUSTERERS, SAMPLINGS, dataset_splits(config, dataset), SEEDS):
        if not excluded(config, model=model, reducer=reducer, clusterer=clusterer, sampling=sampling):
            yield dict(model=model, reducer=reducer, clusterer=clusterer, sampling=sampling, split=split, seed=seed)


def cell_files(extension):
    """Input function: one file per grid cell of the dataset (.json metrics or .parquet labels)."""
    pattern = f"results/{{dataset}}/cells/{{model}}/{{reducer}}/{{clusterer}}/{{sampling}}/{{split}}/{{seed}}{extension}"

    def files(wildcards):
        return [pattern.format(dataset=wildcards.dataset, **cell) for cell in cells(wildcards.dataset)]

    return files


SUBCLUSTER_REDUCERS = config.get("subclusters", {}).get("reducers") or REDUCERS


def subcluster_files(extension):
    """Input function: one sub-clustering per (model, reducer, sampling, seed) of the dataset."""
    pattern = f"results/{{dataset}}/subclusters/{{model}}/{{reducer}}/{{sampling}}/{{split}}/{{seed}}{extension}"

    def files(wildcards):
        reductions = sorted({(c["model"], c["reducer"], c["sampling"], c["split"], c["seed"])
                             for c in cells(wildcards.dataset)
                             if c["reducer"] in SUBCLUSTER_REDUCERS})  # only reductions the grid computes
        return [pattern.format(dataset=wildcards.dataset, model=m, reducer=r, sampling=s, split=split, seed=seed)
                for m, r, s, split, seed in reductions]

    return files


def results_dir_of(wildcards, input):
    """results/<dataset>, derived from the job's summary.csv input."""
    return str(Path(input.summary).parent)


# ---------------------------------------------------------------- sort runs (their own path space)


def sort_root(run):
    """A sort run's photos: generated demo photos (resources/demo-sort/<run>) or the user's folder."""
    spec = config["sort"][run]
    return f"resources/demo-sort/{run}" if "demo" in spec else spec["root"]


def sort_run_spec(run):
    """What sorting depends on: the run's entry without its review CSV, so applying a review
    (or updating it) never re-clusters."""
    return {key: value for key, value in config["sort"][run].items() if key != "review"}


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
    return {"summary": f"results/{benchmark}/summary.csv", "metrics": f"results/{benchmark}/metrics.csv"} if benchmark else {}


def get_sort_choices(wildcards):
    """The entries the sort run may use: its explicit setting's, or every one of its benchmark's grid."""
    spec = config["sort"][wildcards.run]
    if "setting" in spec:
        chosen = spec["setting"]
        names = {"models": [chosen["model"]], "reducers": [chosen["reducer"]], "clusterers": [chosen["clusterer"]]}
    else:
        names = {"models": MODELS, "reducers": REDUCERS, "clusterers": CLUSTERERS}
    return {registry: {name: config[registry][name] for name in chosen} for registry, chosen in names.items()}


def get_sort_embeddings(wildcards):
    """The inbox embedded with the chosen model (known once the sort_setting checkpoint has run)."""
    with open(checkpoints.sort_setting.get(run=wildcards.run).output[0]) as handle:
        model = json.load(handle)["model"]
    return f"results/sort/{wildcards.run}/embeddings/{model}.parquet"


# ---------------------------------------------------------------- targets


def sort_targets():
    """Every sort run's folders and review page, and named folders where a review CSV is given."""
    targets = expand("results/sort/{run}/{name}", run=SORT_RUNS, name=["assignments.csv", "review.html"])
    return targets + [f"results/sort/{run}/labels.csv" for run in SORT_RUNS if "review" in config["sort"][run]]


def all_targets():
    targets = expand("results/{dataset}/metrics.csv", dataset=DATASETS)
    targets += expand("results/{dataset}/plots/heatmap.png", dataset=DATASETS)
    if config["review"]["gallery_top"]:
        targets += expand("results/{dataset}/gallery", dataset=DATASETS)
    targets += sort_targets()
    if "subclusters" in config:
        targets += expand("results/{dataset}/subcluster_attributes.csv", dataset=DATASETS)
    return targets
