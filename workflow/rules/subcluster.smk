# Over-clustering within species (intra-species variation), scored against optional attributes.


rule subcluster:
    input:
        points=rules.reduce.output.points,
        info=rules.reduce.output.info,
    output:
        labels=layout.SUBCLUSTER_LABELS,
        scores=layout.SUBCLUSTER_SCORES,
    log:
        layout.log("subcluster/{model}/{reducer}/{sampling}/{split}/{seed}"),
    conda:
        "../envs/zsc.yaml"
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        spec=lambda wildcards: config["subclusters"],
        attributes=lambda wildcards: config["datasets"][wildcards.dataset].get("attributes"),
    script:
        "../scripts/subcluster.py"


rule subcluster_summary:
    input:
        scores=subcluster_files(layout.SUBCLUSTER_SCORES),
    output:
        layout.SUBCLUSTER_ATTRIBUTES,
    log:
        layout.log("subcluster_summary"),
    conda:
        "../envs/zsc.yaml"
    params:
        reductions=subcluster_keys,
    script:
        "../scripts/subcluster_summary.py"
