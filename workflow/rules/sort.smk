# Sorting unlabeled photos with one chosen setting (no labels anywhere).


rule sort_scan:
    input:
        sort_inputs,
    output:
        manifest="results/sort/{run}/manifest.parquet",
        rejects="results/sort/{run}/rejects.csv",
    params:
        root=lambda wildcards: dataset_root(SORT_PREFIX + wildcards.run),
    threads: 2
    conda:
        "../envs/zsc.yaml"
    log:
        "results/sort/{run}/logs/scan.log",
    script:
        "../scripts/sort_scan.py"


rule sort_embed:
    input:
        sort_inputs,
        manifest="results/sort/{run}/manifest.parquet",
    output:
        embeddings="results/sort/{run}/embeddings.parquet",
        rejects="results/sort/{run}/embed_rejects.csv",
    params:
        model=lambda wildcards: sort_setting(wildcards.run)["model"],
        spec=lambda wildcards: config["models"][sort_setting(wildcards.run)["model"]],
        root=lambda wildcards: dataset_root(SORT_PREFIX + wildcards.run),
        device=config["embed"]["device"],
    threads: config["embed"]["workers"] + 1
    resources:
        mem_mb=8000,
        runtime=120,
    conda:
        "../envs/zsc.yaml"
    log:
        "results/sort/{run}/logs/embed.log",
    script:
        "../scripts/embed.py"


rule sort_assign:
    input:
        embeddings="results/sort/{run}/embeddings.parquet",
    output:
        assignments="results/sort/{run}/assignments.csv",
        review="results/sort/{run}/review.csv",
        folders=directory("results/sort/{run}/clusters"),
    params:
        setting=lambda wildcards: sort_setting(wildcards.run),
        reducer=lambda wildcards: config["reducers"][sort_setting(wildcards.run)["reducer"]],
        clusterer=lambda wildcards: config["clusterers"][sort_setting(wildcards.run)["clusterer"]],
        run=lambda wildcards: config["sort"][wildcards.run],
        root=lambda wildcards: dataset_root(SORT_PREFIX + wildcards.run),
    conda:
        "../envs/zsc.yaml"
    log:
        "results/sort/{run}/logs/assign.log",
    script:
        "../scripts/sort_assign.py"


rule sort_all:
    input:
        expand("results/sort/{run}/assignments.csv", run=config.get("sort", {})),
