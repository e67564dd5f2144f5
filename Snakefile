# Zero-shot clustering of animal images with vision foundation models.
# Thin entry point: config, includes, and the default target.
from snakemake.utils import min_version

min_version("9.0")


# `snakemake` alone runs the offline demo. A config given with --configfile is the whole config:
# it replaces the demo's instead of being merged into it. --config key=value applies to either.
if not workflow.overwrite_configfiles:

    configfile: "config/config.yaml"


# `snakemake --report report.html`: this page first, then the results (leaderboard, figures, sort maps)
report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/embed.smk"
include: "workflow/rules/reduce.smk"
include: "workflow/rules/cluster.smk"
include: "workflow/rules/subcluster.smk"
include: "workflow/rules/aggregate.smk"
include: "workflow/rules/gallery.smk"
include: "workflow/rules/plots.smk"
include: "workflow/rules/sort.smk"
include: "workflow/rules/camera_trap.smk"
include: "workflow/rules/exports.smk"


rule all:
    default_target: True
    input:
        all_targets(),
