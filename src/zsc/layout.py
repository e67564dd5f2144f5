"""Every ``results/`` and ``resources/`` path pattern, defined once.

Patterns hold Snakemake wildcards (``{dataset}``, ``{model}``...): the rules use them as their
inputs and outputs, input functions fill them with :func:`fill`. The library never builds or parses
these paths: a step receives the paths its rule lists.
"""

from __future__ import annotations

# ------------------------------------------------------------------ a benchmark dataset
DATASET = "results/{dataset}"
DEMO_PHOTOS = "resources/demo/{dataset}"
MANIFEST = DATASET + "/manifest.parquet"
SCAN_REJECTS = DATASET + "/rejects/scan.csv"
SAMPLE = DATASET + "/samples/{sampling}/{split}/{seed}.parquet"
EMBEDDINGS = DATASET + "/embeddings/{model}.parquet"
EMBED_STATS = DATASET + "/embeddings/{model}.stats.json"
EMBED_REJECTS = DATASET + "/rejects/embed_{model}.csv"
SHARD = {
    name: DATASET + f"/embeddings/shards/{{model}}/{{shard}}-of-{{n_shards}}{suffix}"
    for name, suffix in {"embeddings": ".parquet", "rejects": ".rejects.csv", "stats": ".stats.json"}.items()
}
REDUCED_POINTS = DATASET + "/reduced/{model}/{reducer}/{sampling}/{split}/{seed}.parquet"
REDUCED_INFO = DATASET + "/reduced/{model}/{reducer}/{sampling}/{split}/{seed}.json"
CELL_LABELS = DATASET + "/cells/{model}/{reducer}/{clusterer}/{sampling}/{split}/{seed}.parquet"
CELL_METRICS = DATASET + "/cells/{model}/{reducer}/{clusterer}/{sampling}/{split}/{seed}.json"
SUBCLUSTER_LABELS = DATASET + "/subclusters/{model}/{reducer}/{sampling}/{split}/{seed}.parquet"
SUBCLUSTER_SCORES = DATASET + "/subclusters/{model}/{reducer}/{sampling}/{split}/{seed}.csv"
SUBCLUSTER_ATTRIBUTES = DATASET + "/subcluster_attributes.csv"
TABLES = {
    name: DATASET + f"/{file}"
    for name, file in {
        "parquet": "metrics.parquet",
        "csv": "metrics.csv",
        "summary": "summary.csv",
        "per_species": "per_species.csv",
        "costs": "costs.csv",
        "label_free": "label_free_selection.csv",
        "leaderboard": "leaderboard.csv",
        "leaderboard_models": "leaderboard_models.csv",
        "pairwise": "pairwise.csv",  # the top settings compared pair by pair on shared seeds
        "outliers": "outliers.csv",
        "rejects": "rejects.csv",
    }.items()
}
THUMBNAILS = DATASET + "/thumbnails"
GALLERY = DATASET + "/gallery"
PLOTS = {
    name: DATASET + f"/plots/{file}"
    for name, file in {
        "heatmap": "heatmap.png",
        "per_species": "per_species.png",
        "scatter": "scatter_best.png",
        "critical_difference": "critical_difference.png",
    }.items()
}
LOGS = DATASET + "/logs"

# ------------------------------------------------------------------ a sort run (its own path space)
SORT_RUN = "results/sort/{run}"
SORT_DEMO_PHOTOS = "resources/demo-sort/{run}"
SORT_MANIFEST = SORT_RUN + "/manifest.parquet"
SORT_PROBE_CACHE = SORT_RUN + "/scan-cache.parquet"  # reused by the next scan (zsc.data.scan), not an output
SORT_REJECTS = SORT_RUN + "/rejects.csv"
SORT_SETTING = SORT_RUN + "/setting.json"
SORT_EMBEDDINGS = SORT_RUN + "/embeddings/{model}.parquet"
SORT_EMBED_STATS = SORT_RUN + "/embeddings/{model}.stats.json"
SORT_EMBED_REJECTS = SORT_RUN + "/embed_rejects/{model}.csv"
SORT_ASSIGNMENTS = SORT_RUN + "/assignments.csv"
SORT_REVIEW_LIST = SORT_RUN + "/review.csv"
SORT_ASSIGN_INFO = SORT_RUN + "/assign.json"  # the parameters as used, as a cell records them
SORT_CLUSTERS = SORT_RUN + "/clusters"
SORT_FRAMES = SORT_RUN + "/frames.csv"  # a camera-trap run: every frame's status, camera, time, sequence
SORT_CROPS = SORT_RUN + "/crops"  # its animal crops: the photos the run sorts
SORT_CROP_MANIFEST = SORT_RUN + "/crops.parquet"
SORT_CAMTRAP = SORT_RUN + "/camtrap-dp"
SORT_FRAME_LABELS = SORT_RUN + "/frame_labels.csv"  # per frame: its crops' label set, status, place in final/
SORT_REVIEWED_DETECTIONS = SORT_RUN + "/detections-reviewed.json"  # MegaDetector format + classifications
SORT_SEASON_SUMMARY = SORT_RUN + "/season-summary.csv"  # per species and camera: frames, independent detections
SORT_ACTIVITY = SORT_RUN + "/activity.png"  # detections per species by hour of day
SORT_KNOWN_INDEX = SORT_RUN + "/known-index.npz"  # the reviewed photos' index (zsc.sorting.known), not an output
SORT_REVIEW_PAGE = SORT_RUN + "/review.html"
SORT_MAP = SORT_RUN + "/map.png"  # the run's 2-D map by cluster, doubtful photos circled (in the report)
SORT_THUMBNAILS = SORT_RUN + "/thumbnails"
SORT_FINAL = SORT_RUN + "/final"  # shared with the user: not a Snakemake output (see zsc.sorting.placement)
SORT_LABELS = SORT_RUN + "/labels.csv"
SORT_LABEL_FOLDERS = SORT_RUN + "/label_folders.csv"
SORT_LOGS = SORT_RUN + "/logs"
# where a reviewer saves the page's export: picked up without a config edit (sort.<run>.review wins)
REVIEW_INBOX = "reviews/{run}.csv"

# ------------------------------------------------------------------ shared resources
WEIGHTS = "resources/weights/{model}.safetensors"
WEIGHTS_DIR = "resources/weights"
EMBED_CACHE = "resources/embed-cache"  # the default of embed.cache


def log(name: str) -> str:
    """A benchmark job's log: ``results/{dataset}/logs/<name>.log`` (name may hold wildcards)."""
    return f"{LOGS}/{name}.log"


def sort_log(name: str) -> str:
    """A sort run job's log: ``results/sort/{run}/logs/<name>.log``."""
    return f"{SORT_LOGS}/{name}.log"


def embed_job_paths(n_shards: int) -> dict[str, str]:
    """The embed rule's outputs and log: per (dataset, model), or per shard of it (then merged)."""
    if n_shards == 1:
        return {"embeddings": EMBEDDINGS, "rejects": EMBED_REJECTS, "stats": EMBED_STATS, "log": log("embed/{model}")}
    shard = {name: pattern.replace("{n_shards}", str(n_shards)) for name, pattern in SHARD.items()}
    return {**shard, "log": log(f"embed/{{model}}.{{shard}}-of-{n_shards}")}


def fill(pattern: str, **wildcards) -> str:
    """A pattern with its wildcards filled (keys the pattern does not name are ignored)."""
    return pattern.format(**wildcards)
