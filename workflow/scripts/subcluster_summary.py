from zsc import jobs

with jobs.logged(snakemake.log[0]):
    jobs.subcluster_summary_job(list(snakemake.input), snakemake.output[0])
