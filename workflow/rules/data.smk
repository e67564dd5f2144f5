# Images in: generated demo species, the scan into manifest + rejects, and per-seed samples.


rule demo_data:
    output:
        directory(layout.DEMO_PHOTOS),
    log:
        "logs/demo_data/{dataset}.log",
    conda:
        "../envs/zsc.yaml"
    params:
        spec=lambda wildcards: config["datasets"][wildcards.dataset]["demo"],
    script:
        "../scripts/demo_data.py"


rule scan:
    input:
        unpack(get_scan_inputs),
    output:
        manifest=layout.MANIFEST,
        rejects=layout.SCAN_REJECTS,
    log:
        layout.log("scan"),
    conda:
        "../envs/zsc.yaml"
    threads: 2
    params:
        root=lambda wildcards: dataset_root(wildcards.dataset),
        label_level=lambda wildcards: config["datasets"][wildcards.dataset]["label_level"],
        group_level=lambda wildcards: config["datasets"][wildcards.dataset]["group_level"],
        min_images_per_species=config["scan"]["min_images_per_species"],
        fingerprint=get_scan_fingerprint,
        split_by_group=lambda wildcards: bool(config["datasets"][wildcards.dataset].get("split_by")),
        unlabeled=False,
        probe_cache=None,
    script:
        "../scripts/scan.py"


rule sample:
    input:
        manifest=layout.MANIFEST,
    output:
        layout.SAMPLE,
    log:
        layout.log("sample/{sampling}/{split}/{seed}"),
    conda:
        "../envs/zsc.yaml"
    params:
        spec=lambda wildcards: config["samplings"][wildcards.sampling],
        group=get_split_group,
    script:
        "../scripts/sample.py"
