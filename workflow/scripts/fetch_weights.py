from zsc.steps import embed as step
from zsc.steps.common import logged

with logged(snakemake.log[0]):
    step.fetch_weights(snakemake.wildcards.model, snakemake.params.spec, snakemake.output[0])
