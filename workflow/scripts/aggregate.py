from zsc import jobs

with jobs.logged(snakemake.log[0]):
    jobs.aggregate_job(
        cell_paths=list(snakemake.input.cells),
        reject_paths=[snakemake.input.scan_rejects, *snakemake.input.embed_rejects],
        outputs=dict(snakemake.output.items()),
        cells_dir=snakemake.params.cells_dir,
    )
