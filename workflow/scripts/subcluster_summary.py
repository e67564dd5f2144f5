from zsc.steps import subcluster as step
from zsc.steps.common import logged

with logged(snakemake.log[0]):
    step.summary(list(snakemake.input.scores), list(snakemake.params.reductions), snakemake.output[0])
