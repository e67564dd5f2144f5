from zsc.steps import embed as step
from zsc.steps.common import logged

with logged(snakemake.log[0]):
    step.embed(
        model_name=snakemake.params.model,
        spec=snakemake.params.spec,
        root=snakemake.params.root,
        manifest_path=snakemake.input.manifest,
        output_path=snakemake.output.embeddings,
        rejects_path=snakemake.output.rejects,
        stats_path=snakemake.output.stats,
        device=snakemake.params.device,
        workers=max(0, snakemake.threads - 1),
        cache_root=snakemake.params.cache,
        shard=int(snakemake.wildcards.get("shard", 0)),
        n_shards=snakemake.params.get("n_shards", 1),
    )
