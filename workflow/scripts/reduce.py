from zsc import jobs

with jobs.logged(snakemake.log[0]):
    jobs.reduce_job(
        embeddings_path=snakemake.input.embeddings,
        sample_path=snakemake.input.sample,
        spec=snakemake.params.spec,
        seed=int(snakemake.wildcards.seed),
        points_path=snakemake.output.points,
        info_path=snakemake.output.info,
    )
