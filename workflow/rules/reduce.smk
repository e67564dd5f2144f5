# Reductions: one job per (model, reducer, sampling, seed), shared by every clusterer.


rule reduce:
    input:
        embeddings=layout.EMBEDDINGS,
        sample=layout.SAMPLE,
    output:
        points=layout.REDUCED + ".parquet",
        info=layout.REDUCED + ".json",
    params:
        spec=lambda wildcards: config["reducers"][wildcards.reducer],
    resources:
        mem_mb=JOB_MEMORY_MB["reduce"],
        runtime=60,
    conda:
        "../envs/zsc.yaml"
    log:
        layout.LOGS + "/reduce/{model}/{reducer}/{sampling}/{split}/{seed}.log",
    script:
        "../scripts/reduce.py"
