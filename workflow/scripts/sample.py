from zsc import jobs

with jobs.logged(snakemake.log[0]):
    jobs.sample(snakemake.input.manifest, snakemake.params.spec, int(snakemake.wildcards.seed), snakemake.output[0],
                group=snakemake.params.group)
