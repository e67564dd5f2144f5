# Figures for `snakemake --report report.html`.


rule plots:
    input:
        summary="results/{dataset}/summary.csv",
        per_species="results/{dataset}/per_species.csv",
        metrics="results/{dataset}/metrics.csv",
    output:
        heatmap=report("results/{dataset}/plots/heatmap.png", caption="../report/heatmap.rst", category="{dataset}"),
        per_species=report("results/{dataset}/plots/per_species.png", caption="../report/per_species.rst", category="{dataset}"),
        scatter=report("results/{dataset}/plots/scatter_best.png", caption="../report/scatter.rst", category="{dataset}"),
    params:
        results_dir=results_dir_of,
    conda:
        "../envs/zsc.yaml"
    log:
        "results/{dataset}/logs/plots.log",
    script:
        "../scripts/plots.py"
