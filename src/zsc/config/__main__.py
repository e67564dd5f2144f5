"""python -m zsc.config FILE...: check config files without starting Snakemake."""

from zsc.config import main

raise SystemExit(main())
