from zsc.steps import cluster as step
from zsc.steps.common import logged

with logged(snakemake.log[0]):
    step.cluster(
        points_path=snakemake.input.points,
        info_path=snakemake.input.info,
        spec=snakemake.params.spec,
        density_preset=snakemake.params.density_preset,
        seed=int(snakemake.wildcards.seed),
        cell={key: snakemake.wildcards[key] for key in ("model", "reducer", "clusterer", "sampling", "split", "seed")},
        labels_path=snakemake.output.labels,
        metrics_path=snakemake.output.metrics,
    )
