from zsc import jobs

with jobs.logged(snakemake.log[0]):
    jobs.sort_review_page_job(
        root=snakemake.params.root,
        assignments_path=snakemake.input.assignments,
        setting_path=snakemake.input.setting,
        run_name=snakemake.wildcards.run,
        page_path=snakemake.output.page,
        thumbs_dir=snakemake.output.thumbnails,
    )
