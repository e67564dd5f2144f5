from zsc.steps import data as step
from zsc.steps.common import logged

with logged(snakemake.log[0]):
    step.demo_photos(snakemake.output[0], snakemake.params.spec)
