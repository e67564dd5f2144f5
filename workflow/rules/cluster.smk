# Cells: one cheap job per (model, reducer, clusterer, sampling, seed).


rule cluster:
    input:
        points=rules.reduce.output.points,
        info=rules.reduce.output.info,
    output:
        labels=layout.CELL + ".parquet",
        metrics=layout.CELL + ".json",
    params:
        spec=lambda wildcards: config["clusterers"][wildcards.clusterer],
        density_preset=get_density_preset,
    resources:
        mem_mb=JOB_MEMORY_MB["cluster"],
        runtime=20,
    conda:
        "../envs/zsc.yaml"
    log:
        layout.LOGS + "/cluster/{model}/{reducer}/{clusterer}/{sampling}/{split}/{seed}.log",
    script:
        "../scripts/cluster.py"
