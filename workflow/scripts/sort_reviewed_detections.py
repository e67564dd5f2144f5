from zsc.steps import camera_trap as step
from zsc.steps.common import logged

with logged(snakemake.log[0]):
    step.write_reviewed_detections(
        frames_path=snakemake.input.frames,
        crops_manifest_path=snakemake.input.crops,
        labels_path=snakemake.input.labels,
        min_confidence=snakemake.params.min_confidence,
        output_path=snakemake.output[0],
    )
