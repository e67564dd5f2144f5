from zsc.steps import gallery as step
from zsc.steps.common import logged

with logged(snakemake.log[0]):
    step.thumbnails(snakemake.params.root, snakemake.input.manifest, snakemake.output[0])
