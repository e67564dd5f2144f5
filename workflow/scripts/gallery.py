from zsc.steps import gallery as step
from zsc.steps.common import logged

with logged(snakemake.log[0]):
    step.gallery(
        summary_path=snakemake.input.summary,
        metrics_path=snakemake.input.metrics,
        labels_by_cell=dict(zip(snakemake.params.cells, snakemake.input.labels)),
        thumbs_dir=snakemake.input.thumbnails,
        top=snakemake.params.top,
        output_dir=snakemake.output[0],
    )
