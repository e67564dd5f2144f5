# One metrics table per dataset, plus the summary over seeds and all rejects.


rule aggregate:
    input:
        cells=cell_files(".json"),
        labels=cell_files(".parquet"),
        scan_rejects=layout.SCAN_REJECTS,
        embed_rejects=lambda wildcards: expand(layout.EMBED_REJECTS, dataset=wildcards.dataset, model=MODELS),
    output:
        **layout.TABLES,
    params:
        cells=cell_keys,
    conda:
        "../envs/zsc.yaml"
    log:
        layout.LOGS + "/aggregate.log",
    script:
        "../scripts/aggregate.py"
