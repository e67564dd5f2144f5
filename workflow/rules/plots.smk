# Figures for `snakemake --report report.html`.


rule plots:
    input:
        summary=rules.aggregate.output.summary,
        per_species=rules.aggregate.output.per_species,
        metrics=rules.aggregate.output.csv,
        labels=cell_files(".parquet"),
        points=reduction_files(".parquet"),
    output:
        heatmap=report(layout.PLOTS + "/heatmap.png", caption="../report/heatmap.rst", category="{dataset}"),
        per_species=report(layout.PLOTS + "/per_species.png", caption="../report/per_species.rst", category="{dataset}"),
        scatter=report(layout.PLOTS + "/scatter_best.png", caption="../report/scatter.rst", category="{dataset}"),
    params:
        cell_keys=cell_keys,
        reduction_keys=reduction_keys,
    conda:
        "../envs/zsc.yaml"
    log:
        layout.LOGS + "/plots.log",
    script:
        "../scripts/plots.py"
