from zsc.steps import sort as step
from zsc.steps.common import logged

with logged(snakemake.log[0]):
    step.apply_review(
        root=snakemake.params.root,
        manifest_path=snakemake.input.manifest,
        assignments_path=snakemake.input.assignments,
        review_path=snakemake.input.review,
        mode=snakemake.params.mode,
        final_dir=snakemake.params.final,
        labels_path=snakemake.output.labels,
        label_folders_path=snakemake.output.folders,
        vocabulary=snakemake.params.vocabulary,
        units_path=snakemake.input.units,
        frames_path=snakemake.input.get("frames"),
        notes=snakemake.params.notes,
    )
