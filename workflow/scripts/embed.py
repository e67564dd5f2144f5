from zsc import jobs

with jobs.logged(snakemake.log[0]):
    jobs.embed(
        model_name=snakemake.params.model,
        spec=snakemake.params.spec,
        root=snakemake.params.root,
        manifest_path=snakemake.input.manifest,
        output_path=snakemake.output.embeddings,
        rejects_path=snakemake.output.rejects,
        device=snakemake.params.device,
        workers=max(0, snakemake.threads - 1),
    )
