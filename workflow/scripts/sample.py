from zsc.steps import data as step
from zsc.steps.common import logged

with logged(snakemake.log[0]):
    step.sample(
        snakemake.input.manifest,
        snakemake.params.spec,
        int(snakemake.wildcards.seed),
        snakemake.output[0],
        group=snakemake.params.group,
    )
