# One metrics table per dataset, plus the summary over seeds and all rejects.


rule aggregate:
    input:
        cells=cell_files(layout.CELL_METRICS),
        labels=cell_files(layout.CELL_LABELS),
        scan_rejects=layout.SCAN_REJECTS,
        embed_rejects=lambda wildcards: expand(layout.EMBED_REJECTS, dataset=wildcards.dataset, model=MODELS),
    output:
        **{
            **layout.TABLES,
            # the leaderboard opens the report's results, above the figures
            "leaderboard": report(
                layout.TABLES["leaderboard"],
                caption="../report/leaderboard.rst",
                category="Benchmark results",
                subcategory="{dataset}",
            ),
        },
    log:
        layout.log("aggregate"),
    conda:
        "../envs/zsc.yaml"
    params:
        cells=cell_keys,
    script:
        "../scripts/aggregate.py"
