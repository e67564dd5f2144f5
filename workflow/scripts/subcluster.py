from zsc import jobs

with jobs.logged(snakemake.log[0]):
    jobs.subcluster_job(
        points_path=snakemake.input.points,
        info_path=snakemake.input.info,
        spec=snakemake.params.spec,
        attributes_path=snakemake.params.attributes,
        seed=int(snakemake.wildcards.seed),
        labels_path=snakemake.output.labels,
        scores_path=snakemake.output.scores,
    )
