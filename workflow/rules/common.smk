# Shared helpers: validated config, wildcard constraints, grid expansion, path helpers.
import itertools
from pathlib import Path

from zsc import runtime_env
from zsc.config import ConfigError, excluded, grid_names, validate_config
from zsc.scan import folder_fingerprint


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


def dataset_root(dataset):
    """Folder of species folders: generated demo data or the user's root."""
    spec = config["datasets"][dataset]
    return f"resources/demo/{dataset}" if "demo" in spec else spec["root"]


def scan_inputs(wildcards):
    """The generated demo folder is a rule output; a user's folder is not an input file."""
    return [dataset_root(wildcards.dataset)] if "demo" in config["datasets"][wildcards.dataset] else []


def content_fingerprint(wildcards):
    """Changes when files under a user's root change, so the scan reruns (demo data: its rule decides)."""
    if "demo" in config["datasets"][wildcards.dataset]:
        return "generated"
    return folder_fingerprint(dataset_root(wildcards.dataset))


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


def cell_metric_files(wildcards):
    pattern = "results/{dataset}/cells/{model}/{reducer}/{clusterer}/{sampling}/{seed}.json"
    return [pattern.format(dataset=wildcards.dataset, **cell) for cell in cells()]


def all_targets():
    return expand("results/{dataset}/metrics.csv", dataset=DATASETS)
