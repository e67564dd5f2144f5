from zsc.steps import camera_trap as step
from zsc.steps.common import logged

with logged(snakemake.log[0]):
    step.camtrap_export(
        run=snakemake.wildcards.run,
        frames_path=snakemake.input.frames,
        crops_manifest_path=snakemake.input.crops,
        root=snakemake.params.root,
        labels_path=snakemake.input.labels,
        assignments_path=snakemake.input.assignments,
        deployments_path=snakemake.input.deployments,
        out_dir=snakemake.output[0],
    )
