# Review outputs: thumbnails (once per dataset) and self-contained HTML cluster galleries.


rule thumbnails:
    input:
        get_demo_folder,
        manifest=layout.MANIFEST,
    output:
        directory(layout.THUMBNAILS),
    log:
        layout.log("thumbnails"),
    conda:
        "../envs/zsc.yaml"
    params:
        root=lambda wildcards: dataset_root(wildcards.dataset),
    script:
        "../scripts/thumbnails.py"


rule gallery:
    input:
        labels=cell_files(layout.CELL_LABELS),
        summary=rules.aggregate.output.summary,
        metrics=rules.aggregate.output.csv,
        thumbnails=rules.thumbnails.output[0],
    output:
        directory(layout.GALLERY),
    log:
        layout.log("gallery"),
    conda:
        "../envs/zsc.yaml"
    params:
        top=config["review"]["gallery_top"],
        cells=cell_keys,
    script:
        "../scripts/gallery.py"
