# Embeddings: one job per (dataset, model), GPU when present; weights fetched once for offline nodes.


rule embed:
    input:
        get_demo_folder,
        get_prefetched_weights,
        manifest="results/{dataset}/manifest.parquet",
    output:
        embeddings="results/{dataset}/embeddings/{model}.parquet",
        rejects="results/{dataset}/rejects/embed_{model}.csv",
    params:
        model=lambda wildcards: wildcards.model,
        spec=lambda wildcards: config["models"][wildcards.model],
        root=lambda wildcards: dataset_root(wildcards.dataset),
        device=config["embed"]["device"],
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
