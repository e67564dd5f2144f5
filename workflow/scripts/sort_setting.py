from zsc.steps import sort as step
from zsc.steps.common import logged

with logged(snakemake.log[0]):
    step.setting(
        run=snakemake.params.run,
        choices=snakemake.params.choices,
        summary_path=snakemake.input.get("summary"),
        metrics_path=snakemake.input.get("metrics"),
        output_path=snakemake.output[0],
    )
