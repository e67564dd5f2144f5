from zsc import jobs

with jobs.logged(snakemake.log[0]):
    jobs.demo_data(snakemake.output[0], snakemake.params.spec)
