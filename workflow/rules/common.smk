# Shared helpers: validated config, wildcard constraints, grid expansion, path helpers.
import itertools
from pathlib import Path

from zsc import runtime_env
from zsc.clusterers import PRESET_FOR_SAMPLING
from zsc.config import ConfigError, excluded, grid_names, validate_config
from zsc.scan import folder_fingerprint
from zsc.sorting import best_setting


try:
    _validated = validate_config(config, workflow.source_path("../schemas/config.schema.yaml"))
except ConfigError as error:
    raise WorkflowError(str(error)) from None
config.clear()
config.update(_validated)
# fast CPU inference, a shared numba cache and (offline clusters) no hub access, for every job process
runtime_env.apply(hub_offline=config["embed"]["offline"])

NAME = "[A-Za-z0-9][A-Za-z0-9_.-]*"


wildcard_constraints:
    dataset=NAME,
    run=NAME,
    model=NAME,
    reducer=NAME,
    clusterer=NAME,
    sampling=NAME,
    seed=r"\d+",


DATASETS = grid_names(config, "datasets")
MODELS = grid_names(config, "models")
REDUCERS = grid_names(config, "reducers")
CLUSTERERS = grid_names(config, "clusterers")
SAMPLINGS = grid_names(config, "samplings")
SEEDS = [str(seed) for seed in config["seeds"]]


SORT_PREFIX = "sort_"  # demo photos of sort runs live in resources/demo/sort_<run>


def photo_source(name):
    """A dataset's entry, or a sort run's (named sort_<run>): both have root or demo."""
    if name.startswith(SORT_PREFIX) and name[len(SORT_PREFIX):] in config.get("sort", {}):
        return config["sort"][name[len(SORT_PREFIX):]]
    return config["datasets"][name]


def dataset_root(dataset):
    """Folder of photos: generated demo data or the user's root."""
    spec = photo_source(dataset)
    return f"resources/demo/{dataset}" if "demo" in spec else spec["root"]


def scan_inputs(wildcards):
    """The generated demo folder is a rule output; a user's folder is not an input file."""
    return [dataset_root(wildcards.dataset)] if "demo" in config["datasets"][wildcards.dataset] else []


def content_fingerprint(wildcards):
    """Changes when files under a user's root change, so the scan reruns (demo data: its rule decides)."""
    if "demo" in config["datasets"][wildcards.dataset]:
        return "generated"
    return folder_fingerprint(dataset_root(wildcards.dataset))


def density_preset(wildcards):
    """The sampling's HDBSCAN/DBSCAN preset (reference toolkit: 15/5 even, 100/30 mixed, 150/50 large)."""
    sampling = config["samplings"][wildcards.sampling]
    return sampling.get("density_preset") or PRESET_FOR_SAMPLING[sampling["kind"]]


def hub_models():
    return [model for model in MODELS if config["models"][model]["weights"] == "hub"]


def prefetched_weights(wildcards):
    """Offline clusters: an embed job needs its hub weights fetched first (fetch_weights, a local rule)."""
    if config["embed"]["offline"] and config["models"][wildcards.model]["weights"] == "hub":
        return [f"resources/weights/{wildcards.model}.safetensors"]
    return []


def cells():
    """Every (model, reducer, clusterer, sampling, seed) not excluded by grid.exclude."""
    for model, reducer, clusterer, sampling, seed in itertools.product(MODELS, REDUCERS, CLUSTERERS, SAMPLINGS, SEEDS):
        if not excluded(config, model=model, reducer=reducer, clusterer=clusterer, sampling=sampling):
            yield dict(model=model, reducer=reducer, clusterer=clusterer, sampling=sampling, seed=seed)


def cell_files(extension):
    """Input function: one file per grid cell of the dataset (.json metrics or .parquet labels)."""
    pattern = f"results/{{dataset}}/cells/{{model}}/{{reducer}}/{{clusterer}}/{{sampling}}/{{seed}}{extension}"

    def files(wildcards):
        return [pattern.format(dataset=wildcards.dataset, **cell) for cell in cells()]

    return files


SUBCLUSTER_REDUCERS = config.get("subclusters", {}).get("reducers") or REDUCERS


def subcluster_files(extension):
    """Input function: one sub-clustering per (model, reducer, sampling, seed) of the dataset."""
    pattern = f"results/{{dataset}}/subclusters/{{model}}/{{reducer}}/{{sampling}}/{{seed}}{extension}"

    def files(wildcards):
        reductions = sorted({(c["model"], c["reducer"], c["sampling"], c["seed"]) for c in cells()
                             if c["reducer"] in SUBCLUSTER_REDUCERS})  # only reductions the grid computes
        return [pattern.format(dataset=wildcards.dataset, model=m, reducer=r, sampling=s, seed=seed)
                for m, r, s, seed in reductions]

    return files


def sort_inputs(wildcards):
    """A sort run's generated demo folder is a rule output; a user's folder is not an input file."""
    return [dataset_root(SORT_PREFIX + wildcards.run)] if "demo" in config["sort"][wildcards.run] else []


def results_dir_of(wildcards, input):
    """results/<dataset>, derived from the job's summary.csv input."""
    return str(Path(input.summary).parent)


def sort_setting(run):
    """The sort run's model/reducer/clusterer: explicit, or the best of a finished benchmark."""
    spec = config["sort"][run]
    return spec.get("setting") or best_setting(f"results/{spec['benchmark']}/summary.csv")


def sort_ready(run):
    spec = config["sort"][run]
    return "setting" in spec or Path(f"results/{spec['benchmark']}/summary.csv").is_file()


def sort_targets():
    runs = config.get("sort", {})
    return [f"results/sort/{run}/assignments.csv" for run in runs if sort_ready(run)]


def all_targets():
    targets = expand("results/{dataset}/metrics.csv", dataset=DATASETS)
    targets += expand("results/{dataset}/plots/heatmap.png", dataset=DATASETS)
    if config["review"]["gallery_top"]:
        targets += expand("results/{dataset}/gallery", dataset=DATASETS)
    targets += sort_targets()  # a sort run on a benchmark's best setting waits for that benchmark
    if "subclusters" in config:
        targets += expand("results/{dataset}/subcluster_attributes.csv", dataset=DATASETS)
    return targets
