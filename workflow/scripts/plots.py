from zsc.steps import plots as step
from zsc.steps.common import logged

with logged(snakemake.log[0]):
    step.plots(
        summary_path=snakemake.input.summary,
        per_species_path=snakemake.input.per_species,
        metrics_path=snakemake.input.metrics,
        labels_by_cell=dict(zip(snakemake.params.cell_keys, snakemake.input.labels)),
        points_by_reduction=dict(zip(snakemake.params.reduction_keys, snakemake.input.points)),
        heatmap_path=snakemake.output.heatmap,
        per_species_plot_path=snakemake.output.per_species,
        scatter_path=snakemake.output.scatter,
        critical_difference_path=snakemake.output.critical_difference,
    )
