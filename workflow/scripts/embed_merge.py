from zsc import jobs

with jobs.logged(snakemake.log[0]):
    jobs.embed_merge(
        manifest_path=snakemake.input.manifest,
        shard_paths=list(snakemake.input.shards),
        shard_rejects=list(snakemake.input.rejects),
        shard_stats=list(snakemake.input.stats),
        outputs=dict(snakemake.output.items()),
    )
