from zsc.steps import subcluster as step
from zsc.steps.common import logged

with logged(snakemake.log[0]):
    step.subcluster(
        points_path=snakemake.input.points,
        info_path=snakemake.input.info,
        spec=snakemake.params.spec,
        attributes_path=snakemake.params.attributes,
        seed=int(snakemake.wildcards.seed),
        labels_path=snakemake.output.labels,
        scores_path=snakemake.output.scores,
    )
