# A camera-trap season (sort.<run>.detections): the detector's boxes turn frames into animal crops,
# which the sort rules then embed, cluster and review instead of whole frames; the applied review
# goes back to frames (final/ mirrors the inbox) and out as a Camtrap DP package.


rule sort_frames:
    input:
        manifest=rules.sort_scan.output.manifest,
        detections=lambda wildcards: config["sort"][wildcards.run]["detections"],
    output:
        frames=layout.SORT_FRAMES,
        crops=directory(layout.SORT_CROPS),
        manifest=layout.SORT_CROP_MANIFEST,
    log:
        layout.sort_log("frames"),
    conda:
        "../envs/zsc.yaml"
    params:
        root=lambda wildcards: sort_root(wildcards.run),
        min_confidence=lambda wildcards: config["sort"][wildcards.run]["min_confidence"],
        sequence_gap_s=lambda wildcards: config["sort"][wildcards.run]["sequence_gap_s"],
    script:
        "../scripts/sort_frames.py"


rule sort_camtrap_dp:
    input:
        frames=rules.sort_frames.output.frames,
        crops=rules.sort_frames.output.manifest,
        labels=layout.SORT_LABELS,
        assignments=layout.SORT_ASSIGNMENTS,
        deployments=lambda wildcards: config["sort"][wildcards.run]["deployments"],
    output:
        directory(layout.SORT_CAMTRAP),
    log:
        layout.sort_log("camtrap_dp"),
    conda:
        "../envs/zsc.yaml"
    params:
        root=lambda wildcards: sort_root(wildcards.run),
    script:
        "../scripts/sort_camtrap_dp.py"


# the reviewed labels back in the detector's format, with classifications (Timelapse, AddaxAI import it)
rule sort_reviewed_detections:
    input:
        frames=rules.sort_frames.output.frames,
        crops=rules.sort_frames.output.manifest,
        labels=layout.SORT_LABELS,
    output:
        layout.SORT_REVIEWED_DETECTIONS,
    log:
        layout.sort_log("reviewed_detections"),
    conda:
        "../envs/zsc.yaml"
    params:
        min_confidence=lambda wildcards: config["sort"][wildcards.run]["min_confidence"],
    script:
        "../scripts/sort_reviewed_detections.py"


# one row per frame: its label (the set of its crops' labels), status, sequence, place in final/
rule sort_frame_labels:
    input:
        frames=rules.sort_frames.output.frames,
        labels=layout.SORT_LABELS,
    output:
        layout.SORT_FRAME_LABELS,
    log:
        layout.sort_log("frame_labels"),
    conda:
        "../envs/zsc.yaml"
    script:
        "../scripts/sort_frame_labels.py"
