from zsc import jobs

with jobs.logged(snakemake.log[0]):
    jobs.cluster_job(
        points_path=snakemake.input.points,
        info_path=snakemake.input.info,
        spec=snakemake.params.spec,
        density_preset=snakemake.params.density_preset,
        seed=int(snakemake.wildcards.seed),
        cell={key: snakemake.wildcards[key] for key in ("model", "reducer", "clusterer", "sampling", "split", "seed")},
        labels_path=snakemake.output.labels,
        metrics_path=snakemake.output.metrics,
    )
