from zsc.steps import sort as step
from zsc.steps.common import logged

with logged(snakemake.log[0]):
    step.scan(snakemake.params.root, snakemake.output.manifest, snakemake.output.rejects, snakemake.threads)
