# Images in: generated demo species, the scan into manifest + rejects, and per-seed samples.


rule demo_data:
    output:
        directory(layout.DEMO_PHOTOS),
    params:
        spec=lambda wildcards: config["datasets"][wildcards.dataset]["demo"],
    conda:
        "../envs/zsc.yaml"
    log:
        "logs/demo_data/{dataset}.log",
    script:
        "../scripts/demo_data.py"


rule scan:
    input:
        unpack(get_scan_inputs),
    output:
        manifest=layout.MANIFEST,
        rejects=layout.SCAN_REJECTS,
    params:
        root=lambda wildcards: dataset_root(wildcards.dataset),
        label_level=lambda wildcards: config["datasets"][wildcards.dataset]["label_level"],
        group_level=lambda wildcards: config["datasets"][wildcards.dataset]["group_level"],
        min_images_per_species=config["scan"]["min_images_per_species"],
        fingerprint=get_scan_fingerprint,
        split_by_group=lambda wildcards: bool(config["datasets"][wildcards.dataset].get("split_by")),
    threads: 2
    conda:
        "../envs/zsc.yaml"
    log:
        layout.LOGS + "/scan.log",
    script:
        "../scripts/scan.py"


rule sample:
    input:
        manifest=layout.MANIFEST,
    output:
        layout.SAMPLE,
    params:
        spec=lambda wildcards: config["samplings"][wildcards.sampling],
        group=get_split_group,
    conda:
        "../envs/zsc.yaml"
    log:
        layout.LOGS + "/sample/{sampling}/{split}/{seed}.log",
    script:
        "../scripts/sample.py"
