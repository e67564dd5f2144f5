from zsc import jobs

with jobs.logged(snakemake.log[0]):
    jobs.sort_scan_job(snakemake.params.root, snakemake.output.manifest, snakemake.output.rejects, snakemake.threads)
