from zsc.steps import reduce as step
from zsc.steps.common import logged

with logged(snakemake.log[0]):
    step.reduce(
        embeddings_path=snakemake.input.embeddings,
        sample_path=snakemake.input.sample,
        spec=snakemake.params.spec,
        seed=int(snakemake.wildcards.seed),
        points_path=snakemake.output.points,
        info_path=snakemake.output.info,
    )
