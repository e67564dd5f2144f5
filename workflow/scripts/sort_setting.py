from zsc import jobs

with jobs.logged(snakemake.log[0]):
    jobs.sort_setting_job(
        run=snakemake.params.run,
        choices=snakemake.params.choices,
        summary_path=snakemake.input.get("summary"),
        metrics_path=snakemake.input.get("metrics"),
        output_path=snakemake.output[0],
    )
