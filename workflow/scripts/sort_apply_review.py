from zsc import jobs

with jobs.logged(snakemake.log[0]):
    jobs.sort_apply_review_job(
        root=snakemake.params.root,
        manifest_path=snakemake.input.manifest,
        assignments_path=snakemake.input.assignments,
        review_path=snakemake.input.review,
        mode=snakemake.params.mode,
        final_dir=snakemake.params.final,
        outputs=dict(snakemake.output.items()),
    )
