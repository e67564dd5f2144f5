# Reductions: one job per (model, reducer, sampling, seed), shared by every clusterer.


rule reduce:
    input:
        embeddings="results/{dataset}/embeddings/{model}.parquet",
        sample="results/{dataset}/samples/{sampling}/{split}/{seed}.parquet",
    output:
        points="results/{dataset}/reduced/{model}/{reducer}/{sampling}/{split}/{seed}.parquet",
        info="results/{dataset}/reduced/{model}/{reducer}/{sampling}/{split}/{seed}.json",
    params:
        spec=lambda wildcards: config["reducers"][wildcards.reducer],
    resources:
        mem_mb=JOB_MEMORY_MB["reduce"],
        runtime=60,
    conda:
        "../envs/zsc.yaml"
    log:
        "results/{dataset}/logs/reduce/{model}/{reducer}/{sampling}/{split}/{seed}.log",
    script:
        "../scripts/reduce.py"
