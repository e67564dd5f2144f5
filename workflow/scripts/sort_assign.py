from zsc import jobs

with jobs.logged(snakemake.log[0]):
    jobs.sort_assign_job(
        manifest_path=snakemake.input.manifest,
        embeddings_path=snakemake.input.embeddings,
        setting_path=snakemake.input.setting,
        run=snakemake.params.run,
        root=snakemake.params.root,
        outputs=dict(snakemake.output.items()),
    )
