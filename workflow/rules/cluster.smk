# Cells: one cheap job per (model, reducer, clusterer, sampling, seed).


rule cluster:
    input:
        points=rules.reduce.output.points,
        info=rules.reduce.output.info,
    output:
        labels=layout.CELL_LABELS,
        metrics=layout.CELL_METRICS,
    log:
        layout.log("cluster/{model}/{reducer}/{clusterer}/{sampling}/{split}/{seed}"),
    conda:
        "../envs/zsc.yaml"
    resources:
        mem_mb=JOB_MEMORY_MB["cluster"],
        runtime=20,
    params:
        spec=lambda wildcards: config["clusterers"][wildcards.clusterer],
        density_preset=get_density_preset,
    script:
        "../scripts/cluster.py"
