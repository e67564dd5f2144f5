# Zero-shot clustering of animal images with vision foundation models.
# Thin entry point: config validation, includes, and the default target.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/embed.smk"
include: "workflow/rules/reduce.smk"
include: "workflow/rules/cluster.smk"
include: "workflow/rules/subcluster.smk"
include: "workflow/rules/aggregate.smk"
include: "workflow/rules/review.smk"
include: "workflow/rules/plots.smk"
include: "workflow/rules/sort.smk"


rule all:
    input:
        all_targets(),
    default_target: True
