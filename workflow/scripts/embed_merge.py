from zsc.steps import embed as step
from zsc.steps.common import logged

with logged(snakemake.log[0]):
    step.merge_shards(
        manifest_path=snakemake.input.manifest,
        shard_paths=list(snakemake.input.shards),
        shard_rejects=list(snakemake.input.rejects),
        shard_stats=list(snakemake.input.stats),
        embeddings_path=snakemake.output.embeddings,
        rejects_path=snakemake.output.rejects,
        stats_path=snakemake.output.stats,
    )
