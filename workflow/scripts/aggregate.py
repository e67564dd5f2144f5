from zsc.steps import aggregate as step
from zsc.steps.common import logged

with logged(snakemake.log[0]):
    step.aggregate(
        cell_paths=list(snakemake.input.cells),
        reject_paths=[snakemake.input.scan_rejects, *snakemake.input.embed_rejects],
        labels_by_cell=dict(zip(snakemake.params.cells, snakemake.input.labels)),
        tables=dict(snakemake.output.items()),
    )
