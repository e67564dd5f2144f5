from zsc.steps import camera_trap as step
from zsc.steps.common import logged

with logged(snakemake.log[0]):
    step.frame_labels_table(
        frames_path=snakemake.input.frames,
        labels_path=snakemake.input.labels,
        output_path=snakemake.output[0],
    )
