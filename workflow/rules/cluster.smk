# Cells: one cheap job per (model, reducer, clusterer, sampling, seed).


rule cluster:
    input:
        points="results/{dataset}/reduced/{model}/{reducer}/{sampling}/{split}/{seed}.parquet",
        info="results/{dataset}/reduced/{model}/{reducer}/{sampling}/{split}/{seed}.json",
    output:
        labels="results/{dataset}/cells/{model}/{reducer}/{clusterer}/{sampling}/{split}/{seed}.parquet",
        metrics="results/{dataset}/cells/{model}/{reducer}/{clusterer}/{sampling}/{split}/{seed}.json",
    params:
        spec=lambda wildcards: config["clusterers"][wildcards.clusterer],
        density_preset=get_density_preset,
    resources:
        mem_mb=JOB_MEMORY_MB["cluster"],
        runtime=20,
    conda:
        "../envs/zsc.yaml"
    log:
        "results/{dataset}/logs/cluster/{model}/{reducer}/{clusterer}/{sampling}/{split}/{seed}.log",
    script:
        "../scripts/cluster.py"
