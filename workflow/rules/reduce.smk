# Reductions: one job per (model, reducer, sampling, seed), shared by every clusterer.


rule reduce:
    input:
        embeddings=layout.EMBEDDINGS,
        sample=layout.SAMPLE,
    output:
        points=layout.REDUCED_POINTS,
        info=layout.REDUCED_INFO,
    log:
        layout.log("reduce/{model}/{reducer}/{sampling}/{split}/{seed}"),
    conda:
        "../envs/zsc.yaml"
    resources:
        mem_mb=JOB_MEMORY_MB["reduce"],
        runtime=60,
    params:
        spec=lambda wildcards: config["reducers"][wildcards.reducer],
    script:
        "../scripts/reduce.py"
