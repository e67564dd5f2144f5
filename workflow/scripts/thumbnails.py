from zsc import jobs

with jobs.logged(snakemake.log[0]):
    jobs.thumbnails_job(snakemake.params.root, snakemake.input.manifest, snakemake.output[0])
