# Embeddings: one job per (dataset, model), GPU when present; weights fetched once for offline nodes.


# Embeddings come from the content-addressed cache (embed.cache) where it has them: adding photos
# embeds only the new ones. With embed.shards: N, each (dataset, model) is N GPU jobs (an image's
# shard follows from its content hash alone), merged into the same per-dataset file.
if EMBED_SHARDS == 1:

    rule embed:
        input:
            get_demo_folder,
            get_prefetched_weights,
            manifest="results/{dataset}/manifest.parquet",
        output:
            embeddings="results/{dataset}/embeddings/{model}.parquet",
            rejects="results/{dataset}/rejects/embed_{model}.csv",
            stats="results/{dataset}/embeddings/{model}.stats.json",
        params:
            model=lambda wildcards: wildcards.model,
            spec=lambda wildcards: config["models"][wildcards.model],
            root=lambda wildcards: dataset_root(wildcards.dataset),
            device=config["embed"]["device"],
            cache=config["embed"]["cache"],
        threads: config["embed"]["workers"] + 1
        resources:
            mem_mb=8000,
            runtime=120,
        conda:
            "../envs/zsc.yaml"
        log:
            "results/{dataset}/logs/embed/{model}.log",
        script:
            "../scripts/embed.py"

else:

    rule embed:
        input:
            get_demo_folder,
            get_prefetched_weights,
            manifest="results/{dataset}/manifest.parquet",
        output:
            embeddings=f"results/{{dataset}}/embeddings/shards/{{model}}/{{shard}}-of-{EMBED_SHARDS}.parquet",
            rejects=f"results/{{dataset}}/embeddings/shards/{{model}}/{{shard}}-of-{EMBED_SHARDS}.rejects.csv",
            stats=f"results/{{dataset}}/embeddings/shards/{{model}}/{{shard}}-of-{EMBED_SHARDS}.stats.json",
        params:
            model=lambda wildcards: wildcards.model,
            spec=lambda wildcards: config["models"][wildcards.model],
            root=lambda wildcards: dataset_root(wildcards.dataset),
            device=config["embed"]["device"],
            cache=config["embed"]["cache"],
            n_shards=EMBED_SHARDS,
        threads: config["embed"]["workers"] + 1
        resources:
            mem_mb=8000,
            runtime=120,
        conda:
            "../envs/zsc.yaml"
        log:
            f"results/{{dataset}}/logs/embed/{{model}}.{{shard}}-of-{EMBED_SHARDS}.log",
        script:
            "../scripts/embed.py"

    rule embed_merge:
        input:
            manifest="results/{dataset}/manifest.parquet",
            shards=embed_shard_files(".parquet"),
            rejects=embed_shard_files(".rejects.csv"),
            stats=embed_shard_files(".stats.json"),
        output:
            embeddings="results/{dataset}/embeddings/{model}.parquet",
            rejects="results/{dataset}/rejects/embed_{model}.csv",
            stats="results/{dataset}/embeddings/{model}.stats.json",
        resources:
            mem_mb=8000,
            runtime=30,
        conda:
            "../envs/zsc.yaml"
        log:
            "results/{dataset}/logs/embed/{model}.merge.log",
        script:
            "../scripts/embed_merge.py"


localrules:
    fetch_weights,
    fetch_weights_all,


rule fetch_weights_all:
    input:
        expand("resources/weights/{model}.safetensors", model=hub_models()),


rule fetch_weights:
    output:
        "resources/weights/{model}.safetensors",
    params:
        spec=lambda wildcards: config["models"][wildcards.model],
    conda:
        "../envs/zsc.yaml"
    log:
        "logs/fetch_weights/{model}.log",
    script:
        "../scripts/fetch_weights.py"
