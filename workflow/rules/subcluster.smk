# Over-clustering within species (intra-species variation), scored against optional attributes.


rule subcluster:
    input:
        points="results/{dataset}/reduced/{model}/{reducer}/{sampling}/{split}/{seed}.parquet",
        info="results/{dataset}/reduced/{model}/{reducer}/{sampling}/{split}/{seed}.json",
    output:
        labels="results/{dataset}/subclusters/{model}/{reducer}/{sampling}/{split}/{seed}.parquet",
        scores="results/{dataset}/subclusters/{model}/{reducer}/{sampling}/{split}/{seed}.csv",
    params:
        spec=lambda wildcards: config["subclusters"],
        attributes=lambda wildcards: config["datasets"][wildcards.dataset].get("attributes"),
    resources:
        mem_mb=2000,
        runtime=20,
    conda:
        "../envs/zsc.yaml"
    log:
        "results/{dataset}/logs/subcluster/{model}/{reducer}/{sampling}/{split}/{seed}.log",
    script:
        "../scripts/subcluster.py"


rule subcluster_summary:
    input:
        subcluster_files(".csv"),
    output:
        "results/{dataset}/subcluster_attributes.csv",
    conda:
        "../envs/zsc.yaml"
    log:
        "results/{dataset}/logs/subcluster_summary.log",
    script:
        "../scripts/subcluster_summary.py"
