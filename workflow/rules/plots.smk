# Figures for `snakemake --report report.html`.


rule plots:
    input:
        summary=rules.aggregate.output.summary,
        per_species=rules.aggregate.output.per_species,
        metrics=rules.aggregate.output.csv,
        labels=cell_files(layout.CELL_LABELS),
        points=reduction_files(layout.REDUCED_POINTS),
    output:
        heatmap=report(
            layout.PLOTS["heatmap"],
            caption="../report/heatmap.rst",
            category="Benchmark results",
            subcategory="{dataset}",
        ),
        per_species=report(
            layout.PLOTS["per_species"],
            caption="../report/per_species.rst",
            category="Benchmark results",
            subcategory="{dataset}",
        ),
        scatter=report(
            layout.PLOTS["scatter"],
            caption="../report/scatter.rst",
            category="Benchmark results",
            subcategory="{dataset}",
        ),
        critical_difference=report(
            layout.PLOTS["critical_difference"],
            caption="../report/critical_difference.rst",
            category="Benchmark results",
            subcategory="{dataset}",
        ),
    log:
        layout.log("plots"),
    conda:
        "../envs/zsc.yaml"
    params:
        cell_keys=cell_keys,
        reduction_keys=reduction_keys,
    script:
        "../scripts/plots.py"
