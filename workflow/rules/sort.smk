# Sorting unlabeled photos with one chosen setting (no labels anywhere). Sort runs live in their
# own path space (resources/demo-sort/<run>, results/sort/<run>), apart from the datasets'.


rule sort_demo_data:
    output:
        directory("resources/demo-sort/{run}"),
    params:
        spec=lambda wildcards: config["sort"][wildcards.run]["demo"],
    conda:
        "../envs/zsc.yaml"
    log:
        "logs/sort_demo_data/{run}.log",
    script:
        "../scripts/demo_data.py"


rule sort_scan:
    input:
        get_sort_demo_folder,
    output:
        manifest="results/sort/{run}/manifest.parquet",
        rejects="results/sort/{run}/rejects.csv",
    params:
        root=lambda wildcards: sort_root(wildcards.run),
        fingerprint=get_sort_fingerprint,
    threads: 2
    conda:
        "../envs/zsc.yaml"
    log:
        "results/sort/{run}/logs/scan.log",
    script:
        "../scripts/sort_scan.py"


localrules:
    sort_setting,


# The setting is a file written by a job, not read while the Snakefile is parsed: a sort run on a
# benchmark's best setting runs in the same invocation as that benchmark, and follows it when it changes.
checkpoint sort_setting:
    input:
        unpack(get_sort_benchmark_tables),
    output:
        "results/sort/{run}/setting.json",
    params:
        run=lambda wildcards: sort_run_spec(wildcards.run),
        choices=get_sort_choices,
    conda:
        "../envs/zsc.yaml"
    log:
        "results/sort/{run}/logs/setting.log",
    script:
        "../scripts/sort_setting.py"


rule sort_embed:
    input:
        get_sort_demo_folder,
        manifest="results/sort/{run}/manifest.parquet",
    output:
        embeddings="results/sort/{run}/embeddings/{model}.parquet",
        rejects="results/sort/{run}/embed_rejects/{model}.csv",
        stats="results/sort/{run}/embeddings/{model}.stats.json",
    params:
        model=lambda wildcards: wildcards.model,
        spec=lambda wildcards: config["models"][wildcards.model],
        root=lambda wildcards: sort_root(wildcards.run),
        device=config["embed"]["device"],
        cache=config["embed"]["cache"],
    threads: config["embed"]["workers"] + 1
    resources:
        mem_mb=8000,
        runtime=120,
    conda:
        "../envs/zsc.yaml"
    log:
        "results/sort/{run}/logs/embed/{model}.log",
    script:
        "../scripts/embed.py"


rule sort_assign:
    input:
        manifest="results/sort/{run}/manifest.parquet",
        setting="results/sort/{run}/setting.json",
        embeddings=get_sort_embeddings,
    output:
        assignments="results/sort/{run}/assignments.csv",
        review="results/sort/{run}/review.csv",
        folders=directory("results/sort/{run}/clusters"),
    params:
        run=lambda wildcards: sort_run_spec(wildcards.run),
        root=lambda wildcards: sort_root(wildcards.run),
    conda:
        "../envs/zsc.yaml"
    log:
        "results/sort/{run}/logs/assign.log",
    script:
        "../scripts/sort_assign.py"


rule sort_review_page:
    input:
        get_sort_demo_folder,
        assignments="results/sort/{run}/assignments.csv",
        setting="results/sort/{run}/setting.json",
    output:
        page="results/sort/{run}/review.html",
        thumbnails=directory("results/sort/{run}/thumbnails"),
    params:
        root=lambda wildcards: sort_root(wildcards.run),
    conda:
        "../envs/zsc.yaml"
    log:
        "results/sort/{run}/logs/review_page.log",
    script:
        "../scripts/sort_review_page.py"


# A reviewer's exported CSV (sort.<run>.review) becomes named folders; nothing is re-embedded or re-clustered.
rule sort_apply_review:
    input:
        manifest="results/sort/{run}/manifest.parquet",
        assignments="results/sort/{run}/assignments.csv",
        review=lambda wildcards: config["sort"][wildcards.run]["review"],
    output:
        labels="results/sort/{run}/labels.csv",
        folders="results/sort/{run}/label_folders.csv",
    params:
        root=lambda wildcards: sort_root(wildcards.run),
        # not an output: Snakemake would delete it before each apply, and the user's own files with it;
        # the step replaces or removes only files it recorded writing there (final.written.csv)
        final=lambda wildcards: f"results/sort/{wildcards.run}/final",
        mode=lambda wildcards: config["sort"][wildcards.run]["link"],
    conda:
        "../envs/zsc.yaml"
    log:
        "results/sort/{run}/logs/apply_review.log",
    script:
        "../scripts/sort_apply_review.py"


rule sort_all:
    input:
        sort_targets(),
