# Review outputs: thumbnails (once per dataset) and self-contained HTML cluster galleries.


rule thumbnails:
    input:
        get_demo_folder,
        manifest=layout.MANIFEST,
    output:
        directory(layout.THUMBNAILS),
    params:
        root=lambda wildcards: dataset_root(wildcards.dataset),
    conda:
        "../envs/zsc.yaml"
    log:
        layout.LOGS + "/thumbnails.log",
    script:
        "../scripts/thumbnails.py"


rule gallery:
    input:
        labels=cell_files(".parquet"),
        summary=rules.aggregate.output.summary,
        metrics=rules.aggregate.output.csv,
        thumbnails=rules.thumbnails.output[0],
    output:
        directory(layout.GALLERY),
    params:
        top=config["review"]["gallery_top"],
        cells=cell_keys,
    conda:
        "../envs/zsc.yaml"
    log:
        layout.LOGS + "/gallery.log",
    script:
        "../scripts/gallery.py"
