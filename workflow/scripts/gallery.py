from zsc import jobs

with jobs.logged(snakemake.log[0]):
    jobs.gallery_job(
        summary_path=snakemake.input.summary,
        metrics_path=snakemake.input.metrics,
        cells_dir=snakemake.params.cells_dir,
        thumbs_dir=snakemake.input.thumbnails,
        top=snakemake.params.top,
        output_dir=snakemake.output[0],
    )
