"""One module per rule family (named after its workflow/rules/*.smk file): paths and plain params in, files out.

The Snakemake scripts in workflow/scripts/ only unpack the ``snakemake`` object and call these, so every
step is testable without Snakemake. This is the top layer: it may import every other; nothing imports it.
"""
