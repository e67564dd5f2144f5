# Embeddings: one job per (dataset, model), GPU when present; weights fetched once for offline nodes.


# Embeddings come from the content-addressed cache (embed.cache) where it has them: adding photos
# embeds only the new ones. With embed.shards: N, each (dataset, model) is N GPU jobs (an image's
# shard follows from its content hash alone), merged into the same per-dataset file.
EMBED_PATHS = layout.embed_job_paths(EMBED_SHARDS)


rule embed:
    input:
        get_demo_folder,
        get_prefetched_weights,
        manifest=layout.MANIFEST,
    output:
        embeddings=EMBED_PATHS["embeddings"],
        rejects=EMBED_PATHS["rejects"],
        stats=EMBED_PATHS["stats"],
    log:
        EMBED_PATHS["log"],
    conda:
        "../envs/zsc.yaml"
    threads: config["embed"]["workers"] + 1
    resources:
        mem_mb=8000,
        runtime=120,
    params:
        **({"n_shards": EMBED_SHARDS} if EMBED_SHARDS > 1 else {}),
        model=lambda wildcards: wildcards.model,
        spec=lambda wildcards: config["models"][wildcards.model],
        root=lambda wildcards: dataset_root(wildcards.dataset),
        device=config["embed"]["device"],
        cache=config["embed"]["cache"],
    script:
        "../scripts/embed.py"


if EMBED_SHARDS > 1:

    rule embed_merge:
        input:
            manifest=layout.MANIFEST,
            shards=embed_shard_files("embeddings"),
            rejects=embed_shard_files("rejects"),
            stats=embed_shard_files("stats"),
        output:
            embeddings=layout.EMBEDDINGS,
            rejects=layout.EMBED_REJECTS,
            stats=layout.EMBED_STATS,
        log:
            layout.log("embed/{model}.merge"),
        conda:
            "../envs/zsc.yaml"
        resources:
            mem_mb=8000,
            runtime=30,
        script:
            "../scripts/embed_merge.py"


localrules:
    fetch_weights,
    fetch_weights_all,


rule fetch_weights_all:
    input:
        expand(layout.WEIGHTS, model=hub_models()),


rule fetch_weights:
    output:
        layout.WEIGHTS,
    log:
        "logs/fetch_weights/{model}.log",
    conda:
        "../envs/zsc.yaml"
    params:
        spec=lambda wildcards: config["models"][wildcards.model],
    script:
        "../scripts/fetch_weights.py"
