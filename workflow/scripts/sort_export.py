from zsc.steps import exports as step
from zsc.steps.common import logged

with logged(snakemake.log[0]):
    step.write_export(
        name=snakemake.params.export,
        inputs=dict(snakemake.input.items()),
        output=snakemake.output[0],
        context=snakemake.params.context,
    )
