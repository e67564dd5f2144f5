# Over-clustering within species (intra-species variation), scored against optional attributes.


rule subcluster:
    input:
        points=rules.reduce.output.points,
        info=rules.reduce.output.info,
    output:
        labels=layout.SUBCLUSTERS + ".parquet",
        scores=layout.SUBCLUSTERS + ".csv",
    params:
        spec=lambda wildcards: config["subclusters"],
        attributes=lambda wildcards: config["datasets"][wildcards.dataset].get("attributes"),
    resources:
        mem_mb=2000,
        runtime=20,
    conda:
        "../envs/zsc.yaml"
    log:
        layout.LOGS + "/subcluster/{model}/{reducer}/{sampling}/{split}/{seed}.log",
    script:
        "../scripts/subcluster.py"


rule subcluster_summary:
    input:
        scores=subcluster_files(".csv"),
    output:
        layout.SUBCLUSTER_ATTRIBUTES,
    params:
        reductions=subcluster_keys,
    conda:
        "../envs/zsc.yaml"
    log:
        layout.LOGS + "/subcluster_summary.log",
    script:
        "../scripts/subcluster_summary.py"
