from zsc.steps import plots as step
from zsc.steps.common import logged

with logged(snakemake.log[0]):
    step.sort_map(
        run=snakemake.wildcards.run,
        assignments_path=snakemake.input.assignments,
        setting_path=snakemake.input.setting,
        map_path=snakemake.output[0],
    )
