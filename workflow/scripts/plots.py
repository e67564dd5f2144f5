from zsc import jobs

with jobs.logged(snakemake.log[0]):
    jobs.plots_job(snakemake.params.results_dir, dict(snakemake.output.items()))
