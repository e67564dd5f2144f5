from zsc.steps import data as step
from zsc.steps.common import logged

with logged(snakemake.log[0]):
    step.scan(
        root=snakemake.params.root,
        label_level=snakemake.params.label_level,
        group_level=snakemake.params.group_level,
        min_images_per_species=snakemake.params.min_images_per_species,
        manifest_path=snakemake.output.manifest,
        rejects_path=snakemake.output.rejects,
        workers=snakemake.threads,
        labels_path=snakemake.input.get("labels"),
        split_by_group=snakemake.params.split_by_group,
        unlabeled=snakemake.params.unlabeled,
        probe_cache_path=snakemake.params.probe_cache,
        fingerprint=snakemake.params.fingerprint,
    )
