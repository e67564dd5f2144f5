from zsc.steps import camera_trap as step
from zsc.steps.common import logged

with logged(snakemake.log[0]):
    step.frames(
        root=snakemake.params.root,
        manifest_path=snakemake.input.manifest,
        rejects_path=snakemake.input.rejects,
        detections_path=snakemake.input.detections,
        min_confidence=snakemake.params.min_confidence,
        sequence_gap_s=snakemake.params.sequence_gap_s,
        frames_path=snakemake.output.frames,
        crops_dir=snakemake.output.crops,
        crops_manifest_path=snakemake.output.manifest,
        camera_level=snakemake.params.camera_level,
        workers=snakemake.threads,
    )
