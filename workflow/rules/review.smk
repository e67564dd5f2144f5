# Review outputs: thumbnails (once per dataset) and self-contained HTML cluster galleries.


rule thumbnails:
    input:
        get_demo_folder,
        manifest="results/{dataset}/manifest.parquet",
    output:
        directory("results/{dataset}/thumbnails"),
    params:
        root=lambda wildcards: dataset_root(wildcards.dataset),
    conda:
        "../envs/zsc.yaml"
    log:
        "results/{dataset}/logs/thumbnails.log",
    script:
        "../scripts/thumbnails.py"


rule gallery:
    input:
        cell_files(".parquet"),
        summary="results/{dataset}/summary.csv",
        metrics="results/{dataset}/metrics.csv",
        thumbnails="results/{dataset}/thumbnails",
    output:
        directory("results/{dataset}/gallery"),
    params:
        top=config["review"]["gallery_top"],
        cells_dir=lambda wildcards, input: f"{results_dir_of(wildcards, input)}/cells",
    conda:
        "../envs/zsc.yaml"
    log:
        "results/{dataset}/logs/gallery.log",
    script:
        "../scripts/gallery.py"
