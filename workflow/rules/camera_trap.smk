# A camera-trap season (sort.<run>.detections): the detector's boxes turn frames into animal crops,
# which the sort rules then embed, cluster and review instead of whole frames; the applied review
# goes back to frames (final/ mirrors the inbox) and out in the formats of exports.smk.


rule sort_frames:
    input:
        manifest=rules.sort_scan.output.manifest,
        rejects=rules.sort_scan.output.rejects,
        detections=lambda wildcards: config["sort"][wildcards.run]["detections"],
    output:
        frames=layout.SORT_FRAMES,
        crops=directory(layout.SORT_CROPS),
        manifest=layout.SORT_CROP_MANIFEST,
    log:
        layout.sort_log("frames"),
    conda:
        "../envs/zsc.yaml"
    threads: 8  # frames decoded and cropped in parallel (scaled down to --cores)
    params:
        root=lambda wildcards: sort_root(wildcards.run),
        min_confidence=lambda wildcards: config["sort"][wildcards.run]["min_confidence"],
        sequence_gap_s=lambda wildcards: config["sort"][wildcards.run]["sequence_gap_s"],
        camera_level=lambda wildcards: config["sort"][wildcards.run].get("camera_level"),
    script:
        "../scripts/sort_frames.py"
