from zsc import jobs

with jobs.logged(snakemake.log[0]):
    jobs.fetch_weights(snakemake.wildcards.model, snakemake.params.spec, snakemake.output[0])
