# Sorting unlabeled photos with one chosen setting (no labels anywhere). Sort runs live in their
# own path space (layout.SORT_RUN, layout.SORT_DEMO_PHOTOS), apart from the datasets'; the demo
# photos and the embedding reuse the benchmark's rules.


use rule demo_data as sort_demo_data with:
    output:
        directory(layout.SORT_DEMO_PHOTOS),
    log:
        "logs/sort_demo_data/{run}.log",
    params:
        spec=lambda wildcards: config["sort"][wildcards.run]["demo"],


# the benchmark's scan, in unlabeled mode: any layout, no species, every photo (duplicates too)
use rule scan as sort_scan with:
    input:
        get_sort_demo_folder,
    output:
        manifest=layout.SORT_MANIFEST,
        rejects=layout.SORT_REJECTS,
    log:
        layout.sort_log("scan"),
    params:
        root=lambda wildcards: sort_root(wildcards.run),
        label_level=None,
        group_level=None,
        min_images_per_species=1,
        fingerprint=get_sort_fingerprint,
        split_by_group=False,
        unlabeled=True,
        # not an output: each photo's probe and hash by size and mtime, so a weekly rescan reads the week only
        probe_cache=lambda wildcards: layout.fill(layout.SORT_PROBE_CACHE, run=wildcards.run),


localrules:
    sort_setting,


# The setting is a file written by a job, not read while the Snakefile is parsed: a sort run on a
# benchmark's best setting runs in the same invocation as that benchmark, and follows it when it changes.
checkpoint sort_setting:
    input:
        unpack(get_sort_benchmark_tables),
    output:
        layout.SORT_SETTING,
    log:
        layout.sort_log("setting"),
    conda:
        "../envs/zsc.yaml"
    params:
        run=lambda wildcards: sort_run_spec(wildcards.run),
        choices=get_sort_choices,
    script:
        "../scripts/sort_setting.py"


use rule embed as sort_embed with:
    input:
        get_sort_demo_folder,
        manifest=get_sort_units_manifest,
    output:
        embeddings=layout.SORT_EMBEDDINGS,
        rejects=layout.SORT_EMBED_REJECTS,
        stats=layout.SORT_EMBED_STATS,
    log:
        layout.sort_log("embed/{model}"),
    params:
        model=lambda wildcards: wildcards.model,
        spec=lambda wildcards: config["models"][wildcards.model],
        root=lambda wildcards: sort_units_root(wildcards.run),
        device=config["embed"]["device"],
        cache=config["embed"]["cache"],


rule sort_assign:
    input:
        unpack(get_sort_known),
        manifest=get_sort_units_manifest,
        setting=rules.sort_setting.output[0],
        embeddings=get_sort_embeddings,
    output:
        assignments=layout.SORT_ASSIGNMENTS,
        review=layout.SORT_REVIEW_LIST,
        info=layout.SORT_ASSIGN_INFO,
        folders=directory(layout.SORT_CLUSTERS),
    log:
        layout.sort_log("assign"),
    conda:
        "../envs/zsc.yaml"
    params:
        run=lambda wildcards: sort_run_spec(wildcards.run),
        root=lambda wildcards: sort_units_root(wildcards.run),
        # not an output: the reviewed photos' index, rebuilt only when the reviewed set changes
        index=lambda wildcards: layout.fill(layout.SORT_KNOWN_INDEX, run=wildcards.run),
        # read, not an output: the record of what earlier applies filed, so a reviewed photo overwritten
        # in place since is not known any more
        applied=lambda wildcards: layout.fill(layout.SORT_FINAL, run=wildcards.run),
        vocabulary=lambda wildcards: sort_vocabulary(wildcards.run) if "known" in config["sort"][wildcards.run] else [],
    script:
        "../scripts/sort_assign.py"


rule sort_review_page:
    input:
        unpack(get_sort_frames_manifest),
        get_sort_demo_folder,
        manifest=get_sort_units_manifest,
        assignments=rules.sort_assign.output.assignments,
        summary=rules.sort_assign.output.info,
        setting=rules.sort_setting.output[0],
        embeddings=get_sort_embeddings,
    output:
        page=layout.SORT_REVIEW_PAGE,
        thumbnails=directory(layout.SORT_THUMBNAILS),
    log:
        layout.sort_log("review_page"),
    conda:
        "../envs/zsc.yaml"
    params:
        root=lambda wildcards: sort_units_root(wildcards.run),
        vocabulary=lambda wildcards: sort_vocabulary(wildcards.run),
        apply=lambda wildcards: sort_apply_hint(wildcards.run),
        frames_root=lambda wildcards: (
            sort_root(wildcards.run) if "detections" in config["sort"][wildcards.run] else None
        ),
    script:
        "../scripts/sort_review_page.py"


# The run's 2-D map (the page's map, as a figure): in `snakemake --report`, under "Sort runs".
rule sort_map:
    input:
        assignments=rules.sort_assign.output.assignments,
        setting=rules.sort_setting.output[0],
    output:
        report(
            layout.SORT_MAP,
            caption="../report/sort_map.rst",
            category="Sort runs",
            subcategory="{run}",
        ),
    log:
        layout.sort_log("map"),
    conda:
        "../envs/zsc.yaml"
    script:
        "../scripts/sort_map.py"


# A reviewer's exported CSV (sort.<run>.review, or reviews/<run>.csv) becomes named folders; nothing is
# re-embedded or re-clustered.
rule sort_apply_review:
    input:
        unpack(get_sort_frames),
        manifest=rules.sort_scan.output.manifest,
        units=get_sort_units_manifest,
        assignments=rules.sort_assign.output.assignments,
        review=lambda wildcards: sort_review_csv(wildcards.run),
    output:
        labels=layout.SORT_LABELS,
        folders=layout.SORT_LABEL_FOLDERS,
    log:
        layout.sort_log("apply_review"),
    conda:
        "../envs/zsc.yaml"
    params:
        root=lambda wildcards: sort_root(wildcards.run),
        notes=lambda wildcards: sort_export_notes(wildcards.run),
        mode=lambda wildcards: config["sort"][wildcards.run]["link"],
        vocabulary=lambda wildcards: sort_vocabulary(wildcards.run),
        # not an output: Snakemake would delete it before each apply, and the user's own files with it;
        # the step replaces or removes only files it recorded writing there (final.written.csv)
        final=lambda wildcards: layout.fill(layout.SORT_FINAL, run=wildcards.run),
    script:
        "../scripts/sort_apply_review.py"


rule sort_all:
    input:
        sort_targets(),
