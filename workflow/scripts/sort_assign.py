from zsc.steps import sort as step
from zsc.steps.common import logged

with logged(snakemake.log[0]):
    step.assign(
        manifest_path=snakemake.input.manifest,
        embeddings_path=snakemake.input.embeddings,
        setting_path=snakemake.input.setting,
        run=snakemake.params.run,
        root=snakemake.params.root,
        assignments_path=snakemake.output.assignments,
        review_path=snakemake.output.review,
        info_path=snakemake.output.info,
        folders_dir=snakemake.output.folders,
        known_path=snakemake.input.get("known"),
        index_path=snakemake.params.index,
        vocabulary=snakemake.params.vocabulary,
        applied_dir=snakemake.params.applied,
    )
