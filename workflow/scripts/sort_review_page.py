from zsc.steps import sort as step
from zsc.steps.common import logged

with logged(snakemake.log[0]):
    step.review_page(
        root=snakemake.params.root,
        assignments_path=snakemake.input.assignments,
        embeddings_path=snakemake.input.embeddings,
        setting_path=snakemake.input.setting,
        run_name=snakemake.wildcards.run,
        page_path=snakemake.output.page,
        thumbs_dir=snakemake.output.thumbnails,
        vocabulary=snakemake.params.vocabulary,
        apply=snakemake.params.apply,
        manifest_path=snakemake.input.manifest,
        frames_root=snakemake.params.frames_root,
        frames_manifest_path=snakemake.input.get("frames_manifest"),
        summary_path=snakemake.input.summary,
    )
