"""Will every cell fit in its job's memory? Estimated from N (and dims) before any job runs.

Each reducer and clusterer declares its peak memory as a function of the points (registries in
``zsc.methods.reducers`` / ``zsc.methods.clusterers``). N is the most images a sampling can draw from a dataset
(known from file names at parse time), d the model's embedding size (read from its embedding
file when it exists, else assumed). A cell over its job's ``mem_mb`` (the rule's default, or
the profile's / command line's --set-resources) stops the workflow while the DAG is built,
one line per problem, naming a scalable alternative.
"""

from __future__ import annotations

from pathlib import Path

from zsc import grid, layout
from zsc.data.folders import dataset_species_counts, sample_size_bound
from zsc.methods.clusterers import CLUSTERER_METHODS, SCALABLE_CLUSTERERS
from zsc.methods.reducers import REDUCER_METHODS, SCALABLE_REDUCERS

ASSUMED_DIM = 1024  # before a model's embeddings exist; the paper's models have 768 to 1,536


def reduce_mb(spec: dict, n: int, d: int) -> float:
    method = REDUCER_METHODS[spec["method"]]
    return method.memory(n, d, method.resolved_params(spec))


def cluster_mb(spec: dict, n: int) -> float:
    method = CLUSTERER_METHODS[spec["method"]]
    return method.memory(n, method.resolved_params(spec))


def embedding_dim(path: Path | str) -> int | None:
    from zsc.io import read_metadata

    try:
        return int(read_metadata(path).get("embedding_dim") or 0) or None
    except (OSError, ValueError):
        return None


def _alternative(registry: dict, method: str) -> str:
    return registry.get(method, "a smaller sampling (max_per_class / per_class / n_classes)")


def memory_problems(config: dict, limits_mb: dict[str, float]) -> list[str]:
    """One line per (dataset, sampling, reducer or clusterer entry) whose estimate exceeds its job's memory."""
    problems = []
    for dataset in grid.names(config, "datasets"):
        species = dataset_species_counts(config, dataset)
        if not species:
            continue  # photos absent: nothing to size yet (a real run stops earlier)
        dims = {
            model: embedding_dim(layout.fill(layout.EMBEDDINGS, dataset=dataset, model=model)) or ASSUMED_DIM
            for model in grid.names(config, "models")
        }
        for sampling in grid.names(config, "samplings"):
            n = sample_size_bound(config["samplings"][sampling], species)
            for reducer in grid.names(config, "reducers"):
                models = [m for m in dims if not grid.excluded(config, model=m, reducer=reducer, sampling=sampling)]
                if not models:
                    continue
                model = max(models, key=dims.get)
                spec = config["reducers"][reducer]
                estimate = reduce_mb(spec, n, dims[model])
                if estimate > limits_mb["reduce"]:
                    problems.append(
                        f"cell {dataset}/{model}/{reducer}/*/{sampling}: {spec['method']} on N={n:,} points x "
                        f"{dims[model]} dims needs ~{estimate / 1000:.1f} GB, over the reduce job's "
                        f"mem_mb={limits_mb['reduce']:.0f}; use {_alternative(SCALABLE_REDUCERS, spec['method'])}"
                    )
            for clusterer in grid.names(config, "clusterers"):
                if grid.excluded(config, clusterer=clusterer, sampling=sampling):
                    continue
                spec = config["clusterers"][clusterer]
                estimate = cluster_mb(spec, n)
                if estimate > limits_mb["cluster"]:
                    problems.append(
                        f"cell {dataset}/*/*/{clusterer}/{sampling}: {spec['method']} on N={n:,} points needs "
                        f"~{estimate / 1000:.1f} GB, over the cluster job's mem_mb={limits_mb['cluster']:.0f}; "
                        f"use {_alternative(SCALABLE_CLUSTERERS, spec['method'])}"
                    )
    return problems
