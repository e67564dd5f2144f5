# One metrics table per dataset, plus the summary over seeds and all rejects.


rule aggregate:
    input:
        cells=cell_files(".json"),
        labels=cell_files(".parquet"),
        scan_rejects="results/{dataset}/rejects/scan.csv",
        embed_rejects=lambda wildcards: expand("results/{dataset}/rejects/embed_{model}.csv", dataset=wildcards.dataset, model=MODELS),
    output:
        parquet="results/{dataset}/metrics.parquet",
        csv="results/{dataset}/metrics.csv",
        summary="results/{dataset}/summary.csv",
        per_species="results/{dataset}/per_species.csv",
        costs="results/{dataset}/costs.csv",
        label_free="results/{dataset}/label_free_selection.csv",
        leaderboard="results/{dataset}/leaderboard.csv",
        leaderboard_models="results/{dataset}/leaderboard_models.csv",
        outliers="results/{dataset}/outliers.csv",
        rejects="results/{dataset}/rejects.csv",
    params:
        cells_dir=lambda wildcards, input: str(Path(input.scan_rejects).parents[1] / "cells"),
    conda:
        "../envs/zsc.yaml"
    log:
        "results/{dataset}/logs/aggregate.log",
    script:
        "../scripts/aggregate.py"
